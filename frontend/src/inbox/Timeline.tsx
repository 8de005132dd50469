import { useEffect, useLayoutEffect, useRef } from "react";
import type { Conversation } from "../api/types";
import { useInbox } from "../live";
import { dayLabel } from "../ui/format";
import { loadOlder } from "./actions";
import { TimelineItem } from "./TimelineItem";

export function Timeline({ conversation }: { conversation: Conversation }) {
  const tl = useInbox((s) => s.timeline);
  const ref = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ firstId: number | null; lastId: number | null; height: number; contactId: number | null }>({
    firstId: null,
    lastId: null,
    height: 0,
    contactId: null,
  });
  const stickToBottom = useRef(true);

  const first = tl.messages[0]?.id ?? null;
  const last = tl.messages[tl.messages.length - 1]?.id ?? null;

  // Keep the view anchored: bottom on first load / new messages (if already at bottom),
  // same visual position when older messages are prepended.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const a = anchor.current;
    if (a.contactId !== tl.contactId) {
      stickToBottom.current = true;
    }
    if (a.contactId === tl.contactId && a.firstId !== null && first !== a.firstId && last === a.lastId) {
      el.scrollTop += el.scrollHeight - a.height;
    } else if (stickToBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    anchor.current = { firstId: first, lastId: last, height: el.scrollHeight, contactId: tl.contactId };
  }, [first, last, tl.messages, tl.contactId]);

  // Fill the viewport: if there's no scrollbar yet and more history exists, fetch it.
  useEffect(() => {
    const el = ref.current;
    if (el && tl.loaded && !tl.loading && tl.older && el.scrollHeight <= el.clientHeight + 40) void loadOlder();
  }, [tl.loaded, tl.loading, tl.older, tl.messages.length]);

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (el.scrollTop < 200 && tl.older && !tl.loading) void loadOlder();
  };

  let lastDay = "";
  return (
    <div className="timeline" ref={ref} onScroll={onScroll} data-testid="timeline" aria-label="Timeline" role="log" aria-live="polite">
      {tl.older && (
        <div className="timeline-more">
          <button className="link" onClick={() => void loadOlder()} disabled={tl.loading}>
            {tl.loading ? "Loading…" : "Load older messages"}
          </button>
        </div>
      )}
      {!tl.older && tl.loaded && tl.messages.length > 0 && <div className="timeline-start">Beginning of history with this contact</div>}
      {!tl.loaded && <div className="empty">Loading timeline…</div>}
      {tl.loaded && tl.messages.length === 0 && <div className="empty">No messages with this contact yet. Write the first one below.</div>}
      {tl.messages.map((m) => {
        const day = dayLabel(m.created_at);
        const sep = day !== lastDay;
        lastDay = day;
        return (
          <div key={m.id}>
            {sep && (
              <div className="day-sep" role="separator">
                <span>{day}</span>
              </div>
            )}
            <TimelineItem m={m} currentConversationId={conversation.id} />
          </div>
        );
      })}
    </div>
  );
}
