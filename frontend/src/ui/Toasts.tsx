import { useStore } from "../live/store";
import { dismissToast, toastStore } from "./toast";
import { Icon } from "./icons";

export function Toasts() {
  const toasts = useStore(toastStore, (t) => t);
  if (!toasts.length) return null;
  return (
    <div className="toasts" aria-live="assertive">
      {toasts.map((t) => (
        <div
          key={t.id}
          className={`toast toast-${t.kind}`}
          role={t.kind === "error" ? "alert" : "status"}
          data-testid={t.kind === "error" ? "error-toast" : "info-toast"}
        >
          <span>{t.text}</span>
          {t.action && (
            <button
              className="toast-action"
              onClick={() => {
                dismissToast(t.id);
                t.action!.run();
              }}
              data-testid="toast-action"
            >
              {t.action.label}
            </button>
          )}
          <button className="link" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            <Icon name="close" />
          </button>
        </div>
      ))}
    </div>
  );
}
