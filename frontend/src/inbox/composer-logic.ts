import type { Channel, Conversation, ID, LiveEvent, Message, ReplyOption, ReplyOptions } from "../api/types";

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

/** Where a reply goes, as far as the server has said: it alone knows identities, opt-outs and reply windows. */
export interface ReplyTarget {
  /** null until the server has answered. */
  channel: Channel | null;
  /** The recipient; "" when not known or not reachable. */
  to: string;
  /** Why no reply can be sent now: the server's reason for the channel, or why its options could not be loaded. */
  blocked: string | null;
}

/** The target for the server's options (null: not answered yet) after `loadError` (null: no failure) and the agent's pick. */
export function replyTarget(opts: ReplyOptions | null, loadError: string | null, chosen: Channel | null): ReplyTarget {
  if (!opts) return { channel: null, to: "", blocked: loadError && `Could not load where this reply can go. ${loadError}` };
  const channel = selectedChannel(opts, chosen);
  const option = replyOption(opts, channel);
  return { channel, to: option?.available ? option.to : "", blocked: unavailableReason(opts, channel) };
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

/** The Cc field as addresses: separated by commas, semicolons or spaces, as people paste them. */
export function ccAddresses(input: string): string[] {
  return input.split(/[\s,;]+/).filter(Boolean);
}

/**
 * Default subject for an email reply: "Re: <subject of this conversation's last email>", else of the
 * conversation. The timeline is the contact's, across conversations: another thread's subject never applies.
 */
export function defaultSubject(timeline: Message[], conversation: Pick<Conversation, "id" | "subject">): string {
  let subject = conversation.subject;
  for (let i = timeline.length - 1; i >= 0; i--) {
    const m = timeline[i]!;
    if (m.conversation === conversation.id && m.channel === "email" && m.subject && m.kind === "message") {
      subject = m.subject;
      break;
    }
  }
  if (!subject) return "";
  return /^re:/i.test(subject) ? subject : `Re: ${subject}`;
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
