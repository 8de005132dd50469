import { useEffect, useId, useRef, type ReactNode } from "react";
import { initialFocus, trapTab } from "./focus";

/**
 * A modal card over the page. Focus moves in when it opens (to the `data-autofocus` element or the first
 * control), Tab stays inside, Escape or a click outside closes it, and focus returns to where it was.
 */
export function Dialog({ title, onClose, children, testId }: { title: string; onClose: () => void; children: ReactNode; testId?: string }) {
  const titleId = useId();
  const card = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    if (card.current) initialFocus(card.current)?.focus();
    return () => before?.focus?.();
  }, []);

  return (
    <div className="overlay" onClick={onClose}>
      <div
        ref={card}
        className="overlay-card"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.stopPropagation();
            onClose();
          } else trapTab(card.current, e);
        }}
        data-testid={testId}
      >
        <h2 id={titleId}>{title}</h2>
        {children}
      </div>
    </div>
  );
}
