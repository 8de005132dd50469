import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import type { Conversation, Me, Message } from "../api/types";
import { useInbox } from "../live";
import { dayLabel } from "../ui/format";
import { loadOlder } from "./actions";
import { searchTarget } from "../search/highlight";
import { TimelineItem } from "./TimelineItem";

/** Room above the first message for "Load older messages" / "Beginning of history" and the first day. */
const HEAD = 76;
/** Start fetching older history when the reader is this close to the top. */
const LOAD_OLDER_WITHIN = 600;
/** Counts as "at the bottom" (new messages keep the view pinned) within this many px. */
const AT_END = 80;

const days = new Map<string, string>();
/** dayLabel is an Intl call; rows re-render on every scroll frame, so remember it per timestamp. */
function day(iso: string): string {
  let d = days.get(iso);
  if (d === undefined) {
    if (days.size > 20_000) days.clear();
    d = dayLabel(iso);
    days.set(iso, d);
  }
  return d;
}

function estimate(m: Message | undefined): number {
  if (!m) return 80;
  if (m.kind === "activity") return 30;
  if (m.channel === "email" && m.html && m.kind !== "note") return 340;
  if (m.kind === "call" || m.kind === "voicemail") return 120;
  const lines = Math.ceil((m.text?.length ?? 0) / 80) + (m.text?.split("\n").length ?? 1) - 1;
  return 62 + Math.max(1, lines) * 20 + (m.attachments?.length ? 60 : 0);
}

/**
 * The contact's unified timeline, virtualized: oldest at the top, only the rows near the viewport are
 * in the DOM (10k messages stay smooth). Older pages load as the reader nears the top while the row
 * they are reading stays put; new messages keep the view pinned to the bottom when it was there.
 */
export function Timeline({ me, conversation }: { me?: Me; conversation: Conversation }) {
  const tl = useInbox((s) => s.timeline);
  const contactName = useInbox((s) => s.current?.contact.name);
  return (
    <VirtualTimeline
      messages={tl.messages}
      older={!!tl.older}
      loading={tl.loading}
      loaded={tl.loaded}
      onLoadOlder={loadOlder}
      contactName={contactName}
      meId={me?.id}
      currentConversationId={conversation.id}
    />
  );
}

export interface VirtualTimelineProps {
  /** Oldest first. */
  messages: Message[];
  /** More history exists on the server. */
  older: boolean;
  loading: boolean;
  loaded: boolean;
  onLoadOlder: () => void | Promise<void>;
  contactName?: string;
  meId?: number;
  /** Messages of other conversations are shown dimmed with their number (-1: none is current). */
  currentConversationId: number;
  emptyText?: string;
}

/** Remount (key) it per contact: scroll state and measured heights belong to one timeline. */
export function VirtualTimeline({
  messages: rows,
  older,
  loading,
  loaded,
  onLoadOlder,
  contactName,
  meId,
  currentConversationId,
  emptyText = "No messages with this contact yet. Write the first one below.",
}: VirtualTimelineProps) {
  const tl = { older, loading, loaded };
  const loadOlder = () => void onLoadOlder();
  const ref = useRef<HTMLDivElement>(null);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => ref.current,
    estimateSize: (i) => estimate(rows[i]),
    getItemKey: (i) => rows[i]?.id ?? i,
    overscan: 6,
    paddingStart: HEAD,
    paddingEnd: 12,
    // Chat behaviour: keep the reader's row in place when older rows are prepended, and follow
    // new rows appended while the view is at the end.
    anchorTo: "end",
    followOnAppend: true,
    scrollEndThreshold: AT_END,
    // Re-render in the scroll handler's own task rather than synchronously (smoother on long timelines).
    useFlushSync: false,
  });

  // First rows of a (re)loaded timeline: start at the newest message. Older pages are only fetched
  // once that initial scroll has settled (otherwise scrollTop 0 before it would look like "at the top").
  const [settled, setSettled] = useState(false);
  const loadedOnce = useRef(false);
  useLayoutEffect(() => {
    if (!loadedOnce.current && tl.loaded && rows.length) {
      loadedOnce.current = true;
      // Opened from a search result: that message, in the middle; otherwise the newest.
      const target = searchTarget();
      const hit = target ? rows.findIndex((m) => m.id === target.messageId) : -1;
      if (hit >= 0) virtualizer.scrollToIndex(hit, { align: "center" });
      else virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
      const id = requestAnimationFrame(() => requestAnimationFrame(() => setSettled(true)));
      return () => cancelAnimationFrame(id);
    }
    if (!rows.length) {
      loadedOnce.current = false;
      setSettled(false);
    }
    return undefined;
  }, [tl.loaded, rows.length, virtualizer]);

  const nearTop = () => {
    const el = ref.current;
    return !!el && (el.scrollTop < LOAD_OLDER_WITHIN || el.scrollHeight <= el.clientHeight + 40);
  };

  // No scrollbar yet (or still near the top after a page arrived) and more history exists: fetch it.
  const items = virtualizer.getVirtualItems();
  useEffect(() => {
    if (settled && tl.loaded && !tl.loading && tl.older && nearTop()) loadOlder();
  }, [settled, tl.loaded, tl.loading, tl.older, rows.length]);

  const onScroll = () => {
    if (settled && tl.older && !tl.loading && tl.loaded && nearTop()) loadOlder();
  };

  const label = `Timeline with ${contactName || "this contact"}`;
  const target = searchTarget();
  return (
    <div
      className="timeline"
      ref={ref}
      onScroll={onScroll}
      data-testid="timeline"
      role="feed"
      aria-label={label}
      aria-busy={tl.loading || !tl.loaded}
      tabIndex={0}
    >
      {!tl.loaded && <div className="empty">Loading timeline…</div>}
      {tl.loaded && rows.length === 0 && <div className="empty">{emptyText}</div>}
      <div className="timeline-inner" style={{ height: virtualizer.getTotalSize() }}>
        {rows.length > 0 && (
          <div className="timeline-head" style={{ height: HEAD }}>
            {tl.older ? (
              <button type="button" className="link" onClick={loadOlder} disabled={tl.loading}>
                {tl.loading ? "Loading older messages…" : "Load older messages"}
              </button>
            ) : (
              <span className="timeline-start">Beginning of history with this contact</span>
            )}
            <DaySeparator label={day(rows[0]!.created_at)} />
          </div>
        )}
        {items.map((vi) => {
          const m = rows[vi.index]!;
          // A new day's separator closes the row before it (not the row it introduces): a page of
          // older messages prepended above then never changes the height of a row already on screen.
          const next = rows[vi.index + 1];
          const nextDay = next ? day(next.created_at) : null;
          const sep = nextDay !== null && nextDay !== day(m.created_at);
          return (
            <div
              key={vi.key}
              ref={virtualizer.measureElement}
              data-index={vi.index}
              className="tl-row"
              style={{ transform: `translateY(${vi.start}px)` }}
              role="article"
              aria-posinset={vi.index + 1}
              aria-setsize={tl.older ? -1 : rows.length}
              aria-label={describe(m)}
            >
              <TimelineItem m={m} currentConversationId={currentConversationId} meId={meId}
                            highlight={target?.messageId === m.id ? target.words : undefined} />
              {sep && <DaySeparator label={nextDay!} />}
            </div>
          );
        })}
      </div>
      <LiveAnnouncer last={rows[rows.length - 1]} />
    </div>
  );
}

function DaySeparator({ label }: { label: string }) {
  return (
    <div className="day-sep" role="separator" aria-label={label}>
      <span>{label}</span>
    </div>
  );
}

function describe(m: Message): string {
  if (m.kind === "activity") return m.text;
  const who = m.sender?.name ?? (m.direction === "in" ? "Contact" : "Heron");
  const what = m.kind === "note" ? "Note" : m.kind === "voicemail" ? "Voicemail" : m.kind === "call" ? "Call" : "Message";
  return `${what} from ${who}`;
}

/** Screen readers hear new messages (the feed itself is not a live region: rows come and go as it scrolls). */
function LiveAnnouncer({ last }: { last: Message | undefined }) {
  const seen = useRef<number | null>(null);
  const text = useRef("");
  if (last && seen.current !== null && last.id !== seen.current && last.direction === "in") {
    text.current = `${describe(last)}: ${last.text.slice(0, 140)}`;
  }
  if (last) seen.current = last.id;
  return (
    <div className="sr-only" role="status" aria-live="polite">
      {text.current}
    </div>
  );
}
