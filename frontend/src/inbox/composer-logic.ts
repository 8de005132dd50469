import type { Channel, Contact, Conversation, ID, IdentityKind, LiveEvent, Message, ReplyOption, ReplyOptions } from "../api/types";
import { identityChannel } from "../ui/format";

const CHANNEL_IDENTITY: Partial<Record<Channel, IdentityKind>> = {
  sms: "phone",
  email: "email",
  google_business: "google_business",
};

/**
 * The channel the picker shows: the agent's choice while the server still lists it (even if it has just
 * become unavailable, so the reason is shown instead of silently switching), else the server's default,
 * else the first available option.
 */
export function selectedChannel(opts: ReplyOptions, chosen: Channel | null): Channel {
  if (chosen && opts.options.some((o) => o.channel === chosen)) return chosen;
  if (opts.options.some((o) => o.channel === opts.default) || !opts.options.length) return opts.default;
  return (opts.options.find((o) => o.available) ?? opts.options[0]!).channel;
}

export function replyOption(opts: ReplyOptions, channel: Channel): ReplyOption | null {
  return opts.options.find((o) => o.channel === channel) ?? null;
}

/** Why a reply can't go by `channel` (the server's reason), or null when it can. */
export function unavailableReason(opts: ReplyOptions, channel: Channel): string | null {
  const o = replyOption(opts, channel);
  if (!o) return `Replies can't be sent by ${channel.replace("_", " ")} in this conversation.`;
  if (o.available) return null;
  return o.reason.trim() || `Replies can't be sent by ${channel.replace("_", " ")} right now.`;
}

/** "+15558675310" → "+1 555 867 5310" (North American numbers); anything else as is. */
export function formatRecipient(to: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(to.trim());
  return m ? `+1 ${m[1]} ${m[2]} ${m[3]}` : to;
}

/**
 * Whether a batch of live events can change where replies may go: the contact was edited or merged
 * (identities, opt-outs), or the customer wrote (reply windows reopen, the last-used identity changes).
 */
export function replyOptionsStale(events: LiveEvent[], conversationId: ID, contactId: ID): boolean {
  return events.some((ev) => {
    if (ev.type === "contact.updated" || ev.type === "contact.merged") {
      const c = ev.data.contact;
      return !!c && (c.id === contactId || c.merged_from.some((m) => m.contact_id === contactId));
    }
    if (ev.type === "message.created") {
      const m = ev.data.message;
      return !!m && m.direction === "in" && m.kind !== "note" && m.kind !== "activity" && (m.conversation === conversationId || m.contact === contactId);
    }
    return false;
  });
}

/** Fallback while the server's reply options are loading (or unavailable): channels we can reply on: one per identity kind of the contact (+ the conversation's own channel). */
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

/** The Cc field as addresses: separated by commas, semicolons or spaces, as people paste them. */
export function ccAddresses(input: string): string[] {
  return input.split(/[\s,;]+/).filter(Boolean);
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
