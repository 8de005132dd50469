import type { Contact, Conversation, LiveEvent, Me, Message } from "../api/types";

export const me: Me = { id: 1, email: "ana@example.com", name: "Ana", role: "agent", teams: [{ id: 10, name: "Support" }], can_reply: true };

export function conv(id: number, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    contact: { id: 100 + id, name: `Contact ${id}`, avatar_initials: "C" },
    inbox: { id: 5, name: "Main SMS", channel: "sms" },
    status: "open",
    snoozed_until: null,
    assignee: { id: 1, name: "Ana" },
    team: { id: 10, name: "Support" },
    priority: "none",
    labels: [],
    subject: "",
    last_message: null,
    last_message_at: `2024-05-01T10:${String(id).padStart(2, "0")}:00Z`,
    waiting_since: null,
    unread_count: 0,
    created_at: "2024-05-01T09:00:00Z",
    ...over,
  };
}

export function msg(id: number, over: Partial<Message> = {}): Message {
  return {
    id,
    conversation: 1,
    contact: 101,
    direction: "in",
    kind: "message",
    channel: "sms",
    inbox: 5,
    text: `message ${id}`,
    html: "",
    subject: "",
    sender: { type: "contact", id: 101, name: "Contact 1" },
    status: "received",
    provider_status: "",
    error_code: "",
    error_message: "",
    external_id: "",
    attachments: [],
    metadata: {},
    created_at: `2024-05-01T11:${String(id % 60).padStart(2, "0")}:00Z`,
    ...over,
  };
}

export function contact(id: number, over: Partial<Contact> = {}): Contact {
  return {
    id,
    name: `Contact ${id}`,
    identities: [{ id: 1, kind: "phone", value: "+15550001", opted_out: false }],
    labels: [],
    conversations_count: 1,
    created_at: "2024-05-01T09:00:00Z",
    merged_from: [],
    ...over,
  };
}

export function messageEvent(id: number, m: Message, c: Conversation, type: "message.created" | "message.updated" = "message.created"): LiveEvent {
  return { id, type, at: m.created_at, data: { message: m, conversation: c } };
}

export function convEvent(id: number, c: Conversation, type: "conversation.created" | "conversation.updated" = "conversation.updated"): LiveEvent {
  return { id, type, at: c.last_message_at, data: { conversation: c } };
}
