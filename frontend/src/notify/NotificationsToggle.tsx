import { useEffect } from "react";
import { Icon } from "../ui/icons";
import { showToast } from "../ui/toast";
import { notificationsActive, refreshPermission, toggleNotifications, useNotifyPrefs } from "./notifier";

/** Header bell: the only place that asks for notification permission (on click, never on load). */
export function NotificationsToggle() {
  const prefs = useNotifyPrefs();
  const on = notificationsActive(prefs);

  useEffect(() => {
    const onVisible = () => refreshPermission();
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, []);

  const title =
    prefs.permission === "unsupported"
      ? "This browser cannot show notifications"
      : prefs.permission === "denied"
        ? "Notifications are blocked for this site in your browser settings"
        : on
          ? "Desktop notifications on: new messages in conversations assigned to you and notes that mention you. Click to turn off."
          : "Turn on desktop notifications for new messages assigned to you and notes that mention you";

  return (
    <button
      type="button"
      className={`icon-button notify-toggle${on ? " on" : ""}`}
      aria-pressed={on}
      aria-label="Desktop notifications"
      title={title}
      disabled={prefs.permission === "unsupported"}
      onClick={async () => {
        const next = await toggleNotifications();
        if (next.permission === "denied")
          showToast("Notifications are blocked for this site. Allow them in your browser's site settings, then click the bell again.");
        else if (notificationsActive(next)) showToast("Desktop notifications are on.", "info");
      }}
      data-testid="notifications-toggle"
      data-permission={prefs.permission}
    >
      <Icon name={on ? "bell" : "bellOff"} size={18} />
    </button>
  );
}
