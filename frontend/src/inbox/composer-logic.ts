import type { Channel, Contact, Conversation, IdentityKind, Message } from "../api/types";
import { identityChannel } from "../ui/format";

const CHANNEL_IDENTITY: Partial<Record<Channel, IdentityKind>> = {
  sms: "phone",
  email: "email",
  google_business: "google_business",
};

/** Channels we can reply on: one per identity kind of the contact (+ the conversation's own channel). */
export function replyChannels(contact: Contact | null, conversation: Conversation): Channel[] {
  const out: Channel[] = [];
  for (const i of contact?.identities ?? []) {
    const ch = identityChannel(i.kind);
    if (ch && !out.includes(ch)) out.push(ch);
  }
  const own = conversation.inbox.channel;
  if (own !== "voice" && !out.includes(own)) out.push(own);
  if (!out.length) out.push(own === "voice" ? "sms" : own);
  return out;
}

/** Default reply channel: the channel of the last inbound message (if we can reply on it). */
export function defaultChannel(options: Channel[], timeline: Message[], conversation: Conversation): Channel {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const m = timeline[i]!;
    if (m.direction === "in" && (m.kind === "message" || m.kind === "voicemail" || m.kind === "call")) {
      const ch = m.channel === "voice" ? "sms" : m.channel;
      if (options.includes(ch)) return ch;
    }
  }
  if (options.includes(conversation.inbox.channel)) return conversation.inbox.channel;
  return options[0] ?? conversation.inbox.channel;
}

/** Reason the selected channel can't be used (opt-out), or null. */
export function optOutReason(contact: Contact | null, channel: Channel): string | null {
  const kind = CHANNEL_IDENTITY[channel];
  if (!contact || !kind) return null;
  const ids = contact.identities.filter((i) => i.kind === kind);
  if (ids.length && ids.every((i) => i.opted_out)) {
    const label = channel === "sms" ? "SMS" : channel === "email" ? "email" : "this channel";
    return `${contact.name || "This contact"} opted out of ${label} (${ids.map((i) => i.value).join(", ")}). You can't send replies on ${label}; pick another channel or add a private note.`;
  }
  return null;
}

/** Default subject for an email reply: "Re: <last inbound email subject>". */
export function defaultSubject(timeline: Message[]): string {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const m = timeline[i]!;
    if (m.channel === "email" && m.subject && m.kind === "message") {
      return /^re:/i.test(m.subject) ? m.subject : `Re: ${m.subject}`;
    }
  }
  return "";
}

/**
 * Outbound replies by *other* agents in this conversation that arrived after the user
 * started typing (`seenIds` = ids present when typing started).
 */
export function collidingReplies(timeline: Message[], conversationId: number, meId: number, seenIds: Set<number>): Message[] {
  return timeline.filter(
    (m) =>
      m.conversation === conversationId &&
      m.direction === "out" &&
      m.kind === "message" &&
      !seenIds.has(m.id) &&
      !(m.sender?.type === "agent" && m.sender.id === meId),
  );
}
