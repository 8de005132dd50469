import { useEffect, useState } from "react";
import { customerTypingFor, useInbox } from "../live";

/** "Alice is typing…" for a few seconds after the last typing frame for this conversation. */
export function CustomerTyping({ conversationId, name }: { conversationId: number; name: string }) {
  const typing = useInbox((s) => s.typing);
  const [now, setNow] = useState(() => Date.now());
  const remaining = customerTypingFor(typing, conversationId, Date.now());

  // Re-render when the indicator should disappear (a new frame resets the timer).
  useEffect(() => {
    if (remaining <= 0) return;
    const t = setTimeout(() => setNow(Date.now()), remaining + 50);
    return () => clearTimeout(t);
  }, [remaining, now]);

  if (remaining <= 0) return null;
  return (
    <div className="customer-typing" role="status" aria-live="polite" data-testid="customer-typing">
      {name || "The customer"} is typing<span className="typing-dots" aria-hidden="true">…</span>
    </div>
  );
}
