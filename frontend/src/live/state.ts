import type { Contact, Conversation, ConversationFilter, ID, Me, Message, PresenceState } from "../api/types";

export interface ListState {
  filter: ConversationFilter;
  items: Conversation[];
  next: string | null;
  loading: boolean;
  loaded: boolean;
  error: string | null;
}

export interface TimelineState {
  contactId: ID | null;
  /** Oldest first (the server pages newest first; we reverse). */
  messages: Message[];
  /** Cursor URL for the next older page, or null if everything is loaded. */
  older: string | null;
  loading: boolean;
  loaded: boolean;
  /** Set when something happened (merge/unmerge) that requires a full reload. */
  stale: boolean;
}

export interface PresenceEntry {
  name: string;
  state: PresenceState;
  at: number;
}

export type ConnectionStatus = "idle" | "connecting" | "open" | "reconnecting";

export interface InboxState {
  me: Me | null;
  /** Highest event id applied; null until we have a baseline (hello frame). */
  lastEventId: number | null;
  /** Recently applied event ids, for dedupe of out-of-order duplicates. */
  applied: number[];
  /** Every event id <= eventFloor counts as applied (baseline / trimmed window). */
  eventFloor: number;
  connection: ConnectionStatus;
  list: ListState;
  currentId: ID | null;
  current: Conversation | null;
  contact: Contact | null;
  timeline: TimelineState;
  /** conversation id -> user id -> presence */
  presence: Record<string, Record<string, PresenceEntry>>;
  /** conversation id -> when the customer was last seen typing (ms, client clock). Ephemeral. */
  typing: Record<string, number>;
}

export const DEFAULT_FILTER: ConversationFilter = { view: "mine", status: "open", channel: "", q: "" };

export function emptyTimeline(contactId: ID | null = null): TimelineState {
  return { contactId, messages: [], older: null, loading: false, loaded: false, stale: false };
}

export function initialState(me: Me | null = null): InboxState {
  return {
    me,
    lastEventId: null,
    applied: [],
    eventFloor: 0,
    connection: "idle",
    list: { filter: DEFAULT_FILTER, items: [], next: null, loading: false, loaded: false, error: null },
    currentId: null,
    current: null,
    contact: null,
    timeline: emptyTimeline(),
    presence: {},
    typing: {},
  };
}
