export type ID = number;
export type Role = "admin" | "agent" | "marketer";
export type Channel = "sms" | "email" | "voice" | "google_business" | "simulator";
export type ConversationStatus = "open" | "pending" | "snoozed" | "resolved";
export type Priority = "none" | "low" | "medium" | "high" | "urgent";
export type View = "mine" | "unassigned" | "team" | "all";
export type MessageKind = "message" | "note" | "call" | "voicemail" | "activity" | "campaign";
export type MessageStatus = "received" | "queued" | "unconfirmed" | "sent" | "delivered" | "read" | "failed";
export type Direction = "in" | "out";

export interface TeamRef {
  id: ID;
  name: string;
}

export interface Me {
  id: ID;
  email: string;
  name: string;
  role: Role;
  teams: TeamRef[];
  can_reply: boolean;
}

export interface Page<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface LastMessage {
  text: string;
  channel: Channel;
  direction: Direction;
  kind: MessageKind;
  /** The agent who wrote it; null for customers and automation (absent from older servers). */
  sender_user?: ID | null;
  created_at: string;
}

export interface Conversation {
  id: ID;
  contact: { id: ID; name: string; avatar_initials: string };
  inbox: { id: ID; name: string; channel: Channel };
  status: ConversationStatus;
  snoozed_until: string | null;
  assignee: { id: ID; name: string } | null;
  team: TeamRef | null;
  priority: Priority;
  labels: string[];
  subject: string;
  last_message: LastMessage | null;
  last_message_at: string;
  waiting_since: string | null;
  unread_count: number;
  created_at: string;
}

export interface Attachment {
  id: ID;
  filename: string;
  content_type: string;
  size: number;
  url: string;
  /** A signed, expiring link for an email's inline image (the sandboxed email iframe sends no cookie). */
  inline_url?: string | null;
  status: "ready" | "pending" | "failed";
}

export interface MessageMetadata {
  duration?: number;
  recording_url?: string;
  transcript?: string;
  call_status?: string;
  quoted_text?: string;
  cc?: { name: string; email: string }[];
  /** Inbound email: the stored original (GET /messages/{id}/original/). */
  raw_event_id?: number;
  [key: string]: unknown;
}

export interface Message {
  id: ID;
  conversation: ID;
  contact: ID;
  direction: Direction;
  kind: MessageKind;
  channel: Channel;
  inbox: ID | null;
  text: string;
  html: string;
  subject: string;
  sender: { type: "agent" | "contact"; id: ID; name: string } | null;
  status: MessageStatus;
  provider_status: string;
  error_code: string;
  error_message: string;
  external_id: string;
  attachments: Attachment[];
  metadata: MessageMetadata;
  created_at: string;
}

export type IdentityKind = "phone" | "email" | "google_business" | "google_review" | "simulator";

export interface Identity {
  id: ID;
  kind: IdentityKind;
  value: string;
  opted_out: boolean;
}

export interface Contact {
  id: ID;
  name: string;
  identities: Identity[];
  /** Label names, sorted (a trait of the customer: vip, churn-risk). */
  labels: string[];
  conversations_count: number;
  created_at: string;
  merged_from: { merge_id: ID; contact_id: ID; name: string }[];
}

export interface Agent {
  id: ID;
  name: string;
  email: string;
  role: Role;
  teams: TeamRef[];
}

export interface Inbox {
  id: ID;
  name: string;
  channel: Channel;
  address: string;
  team: ID | TeamRef | null;
}

export interface Label {
  id: ID;
  name: string;
  color: string;
}

export interface CannedResponse {
  id: ID;
  shortcut: string;
  text: string;
}

export type PresenceState = "viewing" | "replying" | "idle";

export type LiveEvent =
  | { id: number; type: "message.created" | "message.updated"; at: string; data: { message: Message; conversation: Conversation } }
  | { id: number; type: "conversation.created" | "conversation.updated"; at: string; data: { conversation: Conversation } }
  | { id: number; type: "contact.updated" | "contact.merged"; at: string; data: { contact: Contact } };

export interface HelloFrame {
  type: "hello";
  last_event_id: number;
}

export interface PresenceFrame {
  type: "presence";
  data: { conversation: ID; user: { id: ID; name: string }; state: PresenceState };
}

/** Ephemeral (not stored, no event id): the customer is typing (Google Business Messages). */
export interface TypingFrame {
  type: "typing";
  /** `contact` is an id or `{id, name}`; `state` is "typing", anything else ("idle") means stopped. */
  data: { conversation: ID; contact: ID | { id: ID; name: string }; state: string };
}

export type ServerFrame = LiveEvent | HelloFrame | PresenceFrame | TypingFrame;

export interface ConversationFilter {
  view: View;
  status?: ConversationStatus | "";
  channel?: Channel | "";
  inbox?: ID | "";
  label?: string;
  /** An agent id, or "none" for unassigned conversations. */
  assignee?: ID | "none" | "";
  priority?: Priority | "";
  q?: string;
}

/** PATCH /contacts/{id}/: either or both; `labels` is the whole new set (unknown names are created). */
export interface ContactPatch {
  name?: string;
  labels?: string[];
}

export interface ConversationPatch {
  status?: ConversationStatus;
  assignee?: ID | null;
  team?: ID | null;
  priority?: Priority;
  labels?: string[];
  snoozed_until?: string | null;
}

/** One channel a reply could go by (GET /conversations/{id}/reply-options/). */
export interface ReplyOption {
  channel: Channel;
  available: boolean;
  /** Why it can't be used (the same reason a send would fail with); "" when available. */
  reason: string;
  /** The recipient address (phone, email, …); "" when unavailable. */
  to: string;
  inbox: ID | null;
}

export interface ReplyOptions {
  default: Channel;
  options: ReplyOption[];
}

export interface SendMessageBody {
  text: string;
  channel?: Channel;
  private?: boolean;
  subject?: string;
  /** More recipients of an email reply. */
  cc?: string[];
  /** Colleagues @mentioned in a note (private only). */
  mentions?: ID[];
}

/** GET /api/v1/search/: a conversation and its best matching message. */
export interface SearchResult {
  conversation: Conversation;
  match: {
    message_id: ID;
    /** Escaped by the server: text, and <mark> around the matched words only. */
    snippet_html: string;
    words: string[];
    channel: Channel;
    kind: MessageKind;
    direction: Direction;
    created_at: string;
  };
}

export interface SearchPage extends Page<SearchResult> {
  count: number;
  count_capped: boolean;
  hints: string[];
  contacts: { contact: { id: ID; name: string; avatar_initials: string }; identities: Identity[] }[];
}
