/**
 * Pure functions that apply server events (and local changes) to the inbox state.
 * Nothing in here touches the network or the DOM, so all of it is unit-testable.
 */
import type { Contact, Conversation, ConversationFilter, LiveEvent, Me, Message, PresenceFrame, TypingFrame } from "../api/types";
import type { InboxState, ListState, TimelineState } from "./state";

const APPLIED_WINDOW = 2000;

function time(iso: string | null | undefined): number {
  if (!iso) return 0;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** Does `c` belong in the list for `filter` (as seen by `me`)? Mirrors the server-side filter. */
export function matchesFilter(c: Conversation, filter: ConversationFilter, me: Me | null): boolean {
  switch (filter.view) {
    case "mine":
      if (!me || c.assignee?.id !== me.id) return false;
      break;
    case "unassigned":
      if (c.assignee) return false;
      break;
    case "team":
      if (!me || !c.team || !me.teams.some((t) => t.id === c.team!.id)) return false;
      break;
    case "all":
      break;
  }
  if (filter.status && c.status !== filter.status) return false;
  if (filter.channel && c.inbox.channel !== filter.channel) return false;
  if (filter.inbox && c.inbox.id !== Number(filter.inbox)) return false;
  if (filter.label && !c.labels.includes(filter.label)) return false;
  if (filter.assignee === "none") {
    if (c.assignee) return false;
  } else if (filter.assignee !== undefined && filter.assignee !== "" && c.assignee?.id !== Number(filter.assignee)) {
    return false;
  }
  if (filter.priority && c.priority !== filter.priority) return false;
  const q = filter.q?.trim().toLowerCase();
  if (q) {
    const hay = `${c.contact.name} ${c.last_message?.text ?? ""}`.toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}

/** Newest activity first; ties broken by id (desc) so the order is stable. */
export function compareConversations(a: Conversation, b: Conversation): number {
  return time(b.last_message_at) - time(a.last_message_at) || b.id - a.id;
}

/**
 * Insert/replace/remove `c` in the list depending on whether it matches the filter.
 * A changed conversation is moved to its sorted position (normally the top).
 */
export function upsertConversationInList(list: ListState, c: Conversation, me: Me | null): ListState {
  const idx = list.items.findIndex((x) => x.id === c.id);
  const without = idx >= 0 ? list.items.filter((x) => x.id !== c.id) : list.items;
  if (!matchesFilter(c, list.filter, me)) {
    return idx >= 0 ? { ...list, items: without } : list;
  }
  // If more pages remain and this conversation sorts after the last loaded row, it will
  // arrive with a later page; inserting it now would create a hole in the ordering.
  const last = without[without.length - 1];
  if (idx < 0 && list.next && last && compareConversations(c, last) > 0) return list;
  let pos = without.findIndex((x) => compareConversations(c, x) < 0);
  if (pos < 0) pos = without.length;
  const items = [...without.slice(0, pos), c, ...without.slice(pos)];
  return { ...list, items };
}

function compareMessages(a: Message, b: Message): number {
  return time(a.created_at) - time(b.created_at) || a.id - b.id;
}

// "unconfirmed" (the provider may not have it yet) ranks with "queued": it can turn back into it.
const STATUS_RANK: Record<string, number> = {
  received: 0, queued: 1, unconfirmed: 1, sent: 2, delivered: 3, read: 4, failed: 5,
};

/**
 * The newer snapshot of a message, except that its delivery status never moves backwards
 * (queued → sent → delivered → read; failed is terminal). Live frames can arrive out of id order
 * (e.g. "message.updated: sent" before "message.created: queued" when delivery is instant), and a
 * stale snapshot must not undo a tick the user has already seen.
 */
export function mergeMessage(prev: Message, next: Message): Message {
  if ((STATUS_RANK[next.status] ?? 0) >= (STATUS_RANK[prev.status] ?? 0)) return next;
  return {
    ...next,
    status: prev.status,
    provider_status: prev.provider_status,
    error_code: prev.error_code,
    error_message: prev.error_message,
    external_id: prev.external_id || next.external_id,
  };
}

/** Replace a message in place (by id) or insert it at its chronological position (oldest first). */
export function upsertMessage(messages: Message[], m: Message): Message[] {
  const idx = messages.findIndex((x) => x.id === m.id);
  if (idx >= 0) {
    const copy = messages.slice();
    copy[idx] = mergeMessage(copy[idx]!, m);
    return copy;
  }
  const last = messages[messages.length - 1];
  if (!last || compareMessages(last, m) <= 0) return [...messages, m];
  let pos = messages.findIndex((x) => compareMessages(m, x) < 0);
  if (pos < 0) pos = messages.length;
  return [...messages.slice(0, pos), m, ...messages.slice(pos)];
}

/** Merge a page of older messages (server order: newest first) in front of the timeline. */
export function prependOlder(tl: TimelineState, pageNewestFirst: Message[], older: string | null): TimelineState {
  const have = new Set(tl.messages.map((m) => m.id));
  const add = pageNewestFirst.filter((m) => !have.has(m.id)).reverse();
  const messages = [...add, ...tl.messages].sort(compareMessages);
  return { ...tl, messages, older, loading: false, loaded: true };
}

/** Apply a conversation snapshot everywhere it is shown. */
export function applyConversation(state: InboxState, c: Conversation): InboxState {
  let next: InboxState = { ...state, list: upsertConversationInList(state.list, c, state.me) };
  if (state.currentId === c.id) next.current = c;
  return next;
}

function applyContact(state: InboxState, contact: Contact, merged: boolean): InboxState {
  const mergedIds = new Set(contact.merged_from.map((m) => m.contact_id));
  const touches = (id: number) => id === contact.id || (merged && mergedIds.has(id));
  const rename = (c: Conversation): Conversation =>
    touches(c.contact.id) ? { ...c, contact: { ...c.contact, id: contact.id, name: contact.name } } : c;

  let next: InboxState = { ...state, list: { ...state.list, items: state.list.items.map(rename) } };
  if (state.current) next.current = rename(state.current);

  const shown = state.timeline.contactId;
  if (shown !== null && touches(shown)) {
    const before = state.contact;
    const mergeChanged =
      merged ||
      shown !== contact.id ||
      !before ||
      before.merged_from.map((m) => m.merge_id).join() !== contact.merged_from.map((m) => m.merge_id).join();
    next.contact = contact;
    if (mergeChanged) next.timeline = { ...state.timeline, contactId: contact.id, stale: true };
  }
  return next;
}

/** Inbound customer messages (and calls) count as unread; replies, notes and activity lines do not. */
function countsAsUnread(m: Message | undefined, type: LiveEvent["type"]): boolean {
  return !!m && type === "message.created" && m.direction === "in" && (m.kind === "message" || m.kind === "call" || m.kind === "voicemail");
}

/**
 * Event payloads carry `unread_count: 0` (the count is per user), so the client keeps its own:
 * the count it already had for the conversation, plus one for each new inbound message.
 * Opening the conversation resets it (markRead).
 */
function withLocalUnread(state: InboxState, c: Conversation, bump: boolean): Conversation {
  const prev = state.list.items.find((x) => x.id === c.id) ?? (state.current?.id === c.id ? state.current : null);
  const unread = Math.max(c.unread_count ?? 0, (prev?.unread_count ?? 0) + (bump ? 1 : 0));
  return unread === c.unread_count ? c : { ...c, unread_count: unread };
}

/** True if the event was already applied (or is older than our baseline). */
export function isDuplicate(state: InboxState, ev: { id: number }): boolean {
  return ev.id <= state.eventFloor || state.applied.includes(ev.id);
}

function markApplied(state: InboxState, id: number): InboxState {
  let applied = [...state.applied, id];
  let eventFloor = state.eventFloor;
  if (applied.length > APPLIED_WINDOW) {
    applied.sort((a, b) => a - b);
    const dropped = applied.slice(0, applied.length - APPLIED_WINDOW);
    applied = applied.slice(applied.length - APPLIED_WINDOW);
    eventFloor = Math.max(eventFloor, dropped[dropped.length - 1]);
  }
  return { ...state, applied, eventFloor, lastEventId: Math.max(state.lastEventId ?? 0, id) };
}

/** Record the server's current event id as our starting point (first connect). */
export function setBaseline(state: InboxState, lastId: number): InboxState {
  if (state.lastEventId !== null) return state;
  return { ...state, lastEventId: lastId, eventFloor: Math.max(state.eventFloor, lastId) };
}

/**
 * Apply one server event. Returns the same object when the event is a duplicate.
 * Events may be applied more than once (live frame + catch-up) - dedupe is by event id,
 * and every individual operation is idempotent anyway (upsert by id).
 */
export function applyEvent(state: InboxState, ev: LiveEvent): InboxState {
  if (typeof ev.id !== "number") return state;
  if (isDuplicate(state, ev)) return state;
  let next = state;
  switch (ev.type) {
    case "message.created":
    case "message.updated": {
      const { message, conversation } = ev.data;
      if (conversation) next = applyConversation(next, withLocalUnread(next, conversation, countsAsUnread(message, ev.type)));
      // The customer's message arrived: they are no longer typing.
      if (message && ev.type === "message.created" && message.direction === "in") next = clearTyping(next, message.conversation);
      if (message && next.timeline.contactId === message.contact && (next.timeline.loaded || next.timeline.loading)) {
        next = { ...next, timeline: { ...next.timeline, messages: upsertMessage(next.timeline.messages, message) } };
      }
      break;
    }
    case "conversation.created":
    case "conversation.updated":
      if (ev.data.conversation) next = applyConversation(next, withLocalUnread(next, ev.data.conversation, false));
      break;
    case "contact.updated":
    case "contact.merged":
      if (ev.data.contact) next = applyContact(next, ev.data.contact, ev.type === "contact.merged");
      break;
    default:
      break;
  }
  return markApplied(next, ev.id);
}

/** Apply many events in id order (used by catch-up). */
export function applyEvents(state: InboxState, events: LiveEvent[]): InboxState {
  return [...events].sort((a, b) => a.id - b.id).reduce(applyEvent, state);
}

export const PRESENCE_TTL_MS = 90_000;

export function applyPresence(state: InboxState, frame: PresenceFrame, now = Date.now()): InboxState {
  const { conversation, user, state: st } = frame.data;
  if (state.me && user.id === state.me.id) return state;
  const key = String(conversation);
  const forConv = { ...(state.presence[key] ?? {}) };
  if (st === "idle") delete forConv[String(user.id)];
  else forConv[String(user.id)] = { name: user.name, state: st, at: now };
  return { ...state, presence: { ...state.presence, [key]: forConv } };
}

/** Other people currently viewing/replying in a conversation (stale entries dropped). */
export function activePresence(presence: InboxState["presence"], conversationId: number, now = Date.now()) {
  const entries = presence[String(conversationId)] ?? {};
  return Object.entries(entries)
    .filter(([, p]) => now - p.at < PRESENCE_TTL_MS)
    .map(([id, p]) => ({ id: Number(id), ...p }));
}

/** How long "Alice is typing…" stays up after the last typing frame. */
export const TYPING_TTL_MS = 6_000;

function clearTyping(state: InboxState, conversation: number): InboxState {
  const key = String(conversation);
  if (!(key in state.typing)) return state;
  const typing = { ...state.typing };
  delete typing[key];
  return { ...state, typing };
}

/** A customer typing frame (ephemeral, no event id): remember when they were last seen typing. */
export function applyTyping(state: InboxState, frame: TypingFrame, now = Date.now()): InboxState {
  const data = frame?.data;
  if (!data || typeof data.conversation !== "number") return state;
  if (data.state !== "typing") return clearTyping(state, data.conversation);
  return { ...state, typing: { ...state.typing, [String(data.conversation)]: now } };
}

/** Milliseconds the typing indicator should still be shown for `conversationId` (0 = hidden). */
export function customerTypingFor(typing: InboxState["typing"], conversationId: number, now = Date.now()): number {
  const at = typing[String(conversationId)];
  if (at === undefined) return 0;
  return Math.max(0, at + TYPING_TTL_MS - now);
}
