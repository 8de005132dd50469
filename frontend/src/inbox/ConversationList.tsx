import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useRef, useState } from "react";
import type { Conversation, ConversationFilter, Me, View } from "../api/types";
import { DEFAULT_FILTER, useInbox } from "../live";
import { onCommand } from "../ui/commands";
import { channelLabel, fullTime, relativeTime } from "../ui/format";
import { ChannelIcon } from "../ui/icons";
import { navigate } from "../ui/router";
import { useNow } from "../ui/useNow";
import { SearchResults } from "../search/SearchResults";
import { loadList, loadMore } from "./actions";
import { ListFilters } from "./ListFilters";

const VIEWS: { id: View; label: string }[] = [
  { id: "mine", label: "Mine" },
  { id: "unassigned", label: "Unassigned" },
  { id: "team", label: "Team" },
  { id: "all", label: "All" },
];

const ROW_HEIGHT = 76;

export function ConversationList({ me, selectedId }: { me: Me; selectedId: number | null }) {
  const list = useInbox((s) => s.list);
  const { filter } = list;
  const [q, setQ] = useState(filter.q ?? "");
  // A search also looks in messages (SearchResults, below the rows): how many conversations it found there.
  const searching = !!filter.q?.trim();
  const [messageMatches, setMessageMatches] = useState<number | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const now = useNow(30_000);

  useEffect(() => onCommand("focusSearch", () => searchRef.current?.focus()), []);

  // Debounced search.
  useEffect(() => {
    if ((filter.q ?? "") === q) return;
    const t = setTimeout(() => void loadList({ ...filter, q }), 300);
    return () => clearTimeout(t);
  }, [q, filter]);

  const setFilter = (patch: Partial<ConversationFilter>) => {
    void loadList({ ...filter, ...patch, q });
    scrollRef.current?.scrollTo({ top: 0 });
  };

  const virtualizer = useVirtualizer({
    count: list.items.length + (list.next ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    getItemKey: (i) => list.items[i]?.id ?? "more",
  });
  const vItems = virtualizer.getVirtualItems();
  const lastVisible = vItems[vItems.length - 1]?.index ?? 0;

  // Infinite scroll: load the next page when the sentinel row is rendered.
  useEffect(() => {
    if (list.next && !list.loading && lastVisible >= list.items.length - 3) void loadMore();
  }, [lastVisible, list.next, list.loading, list.items.length]);

  // Keep the selected row visible (j/k navigation).
  useEffect(() => {
    const idx = list.items.findIndex((c) => c.id === selectedId);
    if (idx >= 0) virtualizer.scrollToIndex(idx, { align: "auto" });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selectedId]);

  return (
    <section className="pane list-pane" aria-label="Conversations">
      <div className="list-head">
        <div className="tabs" role="tablist" aria-label="Views">
          {VIEWS.map((v) => (
            <button
              key={v.id}
              role="tab"
              aria-selected={filter.view === v.id}
              aria-controls="conversation-list"
              className={filter.view === v.id ? "tab active" : "tab"}
              onClick={() => setFilter({ view: v.id })}
              data-testid={`view-tab-${v.id}`}
            >
              {v.label}
            </button>
          ))}
        </div>
        <input
          ref={searchRef}
          type="search"
          className="search"
          placeholder="Search messages, contacts  ( / )"
          aria-label="Search conversations"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") void loadList({ ...filter, q });
          }}
          data-testid="search-input"
        />
        <ListFilters me={me} filter={filter} onChange={setFilter} />
      </div>
      <div className="list-scroll" ref={scrollRef} data-testid="conversation-list" role="list" aria-label="Conversations" aria-busy={list.loading} id="conversation-list">
        {list.error && (
          <div className="empty error" role="alert">
            Could not load conversations: {list.error}{" "}
            <button className="link" onClick={() => void loadList()}>
              Retry
            </button>
          </div>
        )}
        {!list.error && list.loaded && !list.loading && list.items.length === 0 && (!searching || messageMatches === 0) && (
          <EmptyList
            filter={filter}
            hasTeams={me.teams.length > 0}
            canReply={me.can_reply}
            onSearchCleared={() => setQ("")}
            onFilter={(patch) => void loadList({ ...filter, ...patch })}
          />
        )}
        {!list.loaded && list.loading && <div className="empty">Loading…</div>}
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {vItems.map((vi) => {
            const c = list.items[vi.index];
            return (
              <div
                key={vi.key}
                data-index={vi.index}
                className="vrow"
                role="listitem"
                aria-setsize={list.next ? -1 : list.items.length}
                aria-posinset={vi.index + 1}
                style={{ position: "absolute", top: 0, left: 0, right: 0, height: vi.size, transform: `translateY(${vi.start}px)` }}
              >
                {c ? (
                  <Row c={c} selected={c.id === selectedId} now={now} meId={me.id} />
                ) : (
                  <div className="loading-more">Loading more…</div>
                )}
              </div>
            );
          })}
        </div>
        {searching && <SearchResults filter={filter} selectedId={selectedId} onCount={setMessageMatches} />}
      </div>
    </section>
  );
}

/** Filters that narrow a view; "Reset filters" sets them back to these. */
const RESET_FILTERS: Partial<ConversationFilter> = { status: DEFAULT_FILTER.status, channel: "", inbox: "", label: "", assignee: "", priority: "", q: "" };

/** An empty list says why it is empty and offers the one click that most likely shows something. */
function EmptyList({
  filter,
  hasTeams,
  canReply,
  onSearchCleared,
  onFilter,
}: {
  filter: ConversationFilter;
  hasTeams: boolean;
  canReply: boolean;
  onSearchCleared: () => void;
  onFilter: (patch: Partial<ConversationFilter>) => void;
}) {
  const narrowed = (Object.keys(RESET_FILTERS) as (keyof ConversationFilter)[]).some((k) => (filter[k] ?? "") !== (RESET_FILTERS[k] ?? ""));
  let text: string;
  let action: { label: string; run: () => void } | null = null;
  if (filter.q) {
    text = `No conversations match “${filter.q}”.`;
    action = { label: "Clear the search", run: () => (onSearchCleared(), onFilter({ q: "" })) };
  } else if (narrowed) {
    text = "No conversations with these filters.";
    action = { label: "Reset filters", run: () => onFilter(RESET_FILTERS) };
  } else if (filter.view === "mine" && canReply) {
    text = "Nothing assigned to you right now.";
    action = { label: "Pick up unassigned conversations", run: () => onFilter({ view: "unassigned" }) };
  } else if (filter.view === "mine") {
    text = "Conversations are not assigned to your role; All shows every one of them.";
    action = { label: "Show all conversations", run: () => onFilter({ view: "all" }) };
  } else if (filter.view === "team" && !hasTeams) {
    text = "You are not in any team yet. Ask an admin to add you to one.";
  } else {
    text = "All caught up: no open conversations here. New ones appear by themselves as customers write.";
  }
  return (
    <div className="empty" data-testid="list-empty">
      <p>{text}</p>
      {action && (
        <button type="button" onClick={action.run} data-testid="list-empty-action">
          {action.label}
        </button>
      )}
    </div>
  );
}

/** "You: " for one's own replies and notes, "Agent: " for a colleague's, nothing for the customer's. */
export function snippetPrefix(last: Conversation["last_message"], meId: number): string {
  if (!last || last.direction !== "out" || last.kind === "activity") return "";
  if (last.sender_user === undefined) return "You: "; // older server without the field
  return last.sender_user === meId ? "You: " : last.sender_user === null ? "" : "Agent: ";
}

const Row = memo(function Row({ c, selected, now, meId }: { c: Conversation; selected: boolean; now: number; meId: number }) {
  // The open conversation is being read (its read marker is sent when it opens): never flag it unread.
  const unread = c.unread_count > 0 && !selected;
  const snippet = c.last_message
    ? `${snippetPrefix(c.last_message, meId)}${c.last_message.kind === "note" ? "Note: " : ""}${c.last_message.text || `[${c.last_message.kind}]`}`
    : "No messages yet";
  const waiting = c.waiting_since ? relativeTime(c.waiting_since, now) : relativeTime(c.last_message_at, now);
  return (
    <a
      href={`/conversations/${c.id}`}
      className={`row${selected ? " selected" : ""}${unread ? " unread" : ""}`}
      aria-current={selected ? "true" : undefined}
      aria-label={`${c.contact.name}, ${channelLabel(c.inbox.channel)}${unread ? `, ${c.unread_count} unread` : ""}`}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(`/conversations/${c.id}`);
      }}
      data-testid="conversation-row"
      data-conversation-id={c.id}
      data-unread={unread ? "true" : "false"}
      data-status={c.status}
    >
      <span className={`chan chan-${c.inbox.channel}`} title={`${channelLabel(c.inbox.channel)} · ${c.inbox.name}`} data-testid="channel-badge">
        <ChannelIcon channel={c.inbox.channel} size={15} />
      </span>
      <span className="row-main">
        <span className="row-top">
          <span className="row-name">{c.contact.name || "Unknown contact"}</span>
          <span
            className={`row-time${c.waiting_since ? " waiting" : ""}`}
            title={c.waiting_since ? `Waiting since ${fullTime(c.waiting_since)}` : `Last activity ${fullTime(c.last_message_at)}`}
            data-testid="waiting-time"
          >
            {waiting}
          </span>
        </span>
        <span className="row-snippet">{snippet}</span>
        <span className="row-meta">
          {c.priority !== "none" && <span className={`pill prio-${c.priority}`}>{c.priority}</span>}
          {c.status !== "open" && <span className="pill">{c.status}</span>}
          {c.assignee && <span className="pill muted">@{c.assignee.name}</span>}
          {c.labels.slice(0, 3).map((l) => (
            <span key={l} className="pill label">
              {l}
            </span>
          ))}
        </span>
      </span>
      {unread && (
        <span className="unread-dot" data-testid="unread-marker" aria-hidden="true">
          {c.unread_count}
        </span>
      )}
    </a>
  );
});
