import { useEffect, useId, useRef } from "react";
import type { Message } from "../api/types";

/**
 * "Ada replied while you were typing. Send anyway?" Focus moves to the safe choice (review first), so a
 * second Ctrl+Enter cannot send by accident; Escape also means "review first".
 */
export function CollisionWarning({ replies, onSend, onReview }: { replies: Message[]; onSend: () => void; onReview: () => void }) {
  const textId = useId();
  const review = useRef<HTMLButtonElement>(null);
  useEffect(() => review.current?.focus(), []);
  const names = [...new Set(replies.map((m) => m.sender?.name ?? "Someone"))].join(", ");
  return (
    <div
      className="collision"
      role="alertdialog"
      aria-label="Reply collision"
      aria-describedby={textId}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onReview();
        }
      }}
      data-testid="collision-confirm"
    >
      <span id={textId}>{names} replied while you were typing. Send anyway?</span>
      <button type="button" className="primary" onClick={onSend} data-testid="collision-send">
        Send anyway
      </button>
      <button type="button" ref={review} onClick={onReview} data-testid="collision-cancel">
        Review first
      </button>
    </div>
  );
}
