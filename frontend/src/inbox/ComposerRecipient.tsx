/** The composer's recipient part: where a reply goes (the server's reply options, the agent's pick) and an email's subject and Cc. */
import { useEffect, useState } from "react";
import { api, errorText } from "../api/client";
import type { Channel, Conversation, ID, ReplyOptions } from "../api/types";
import { onLiveEvents, useInbox } from "../live";
import { channelLabel } from "../ui/format";
import { ccAddresses, defaultSubject, formatRecipient, replyOptionsStale, replyTarget, type ReplyTarget } from "./composer-logic";

export interface Recipient extends ReplyTarget {
  /** The server's answer: the only word on where replies can go; null until it first answers. */
  options: ReplyOptions | null;
  /** Asking failed and there is no answer yet (`blocked` says why). */
  failed: boolean;
  retry: () => void;
  choose: (channel: Channel) => void;
  subject: string;
  setSubject: (subject: string) => void;
  cc: string;
  setCc: (cc: string) => void;
  /** What a reply carries besides its text: the channel and, for email, subject and Cc. */
  fields: () => { channel?: Channel; subject?: string; cc?: string[] };
  /** After a send: subject and Cc back to their defaults; the channel stays. */
  clear: () => void;
}

export function useRecipient(conversation: Conversation): Recipient {
  const timeline = useInbox((s) => s.timeline.messages);
  const { options, error, retry } = useReplyOptions(conversation.id, conversation.contact.id);
  const [chosen, setChosen] = useState<Channel | null>(null);
  const [subject, setSubject] = useState<string | null>(null);
  const [cc, setCc] = useState("");
  const target = replyTarget(options, error, chosen);
  const subjectValue = subject ?? defaultSubject(timeline, conversation);
  return {
    ...target,
    options,
    failed: !options && !!error,
    retry,
    choose: setChosen,
    subject: subjectValue,
    setSubject,
    cc,
    setCc,
    fields: () => {
      const { channel } = target;
      if (channel !== "email") return channel ? { channel } : {};
      const addresses = ccAddresses(cc);
      return { channel, ...(subjectValue ? { subject: subjectValue } : {}), ...(addresses.length ? { cc: addresses } : {}) };
    },
    clear: () => {
      setSubject(null);
      setCc("");
    },
  };
}

/** GET …/reply-options/ on open, and again whenever live events say they may have changed. */
function useReplyOptions(conversationId: ID, contactId: ID) {
  const [options, setOptions] = useState<ReplyOptions | null>(null);
  /** Why the first answer could not be had (a later failure keeps the answer we have). */
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    api.replyOptions(conversationId, ctl.signal).then(
      (opts) => {
        if (ctl.signal.aborted) return;
        setOptions(opts);
        setError(null);
      },
      (e) => {
        if (!ctl.signal.aborted) setError(errorText(e));
      },
    );
    return () => ctl.abort();
  }, [conversationId, version]);
  useEffect(
    () =>
      onLiveEvents((events) => {
        if (replyOptionsStale(events, conversationId, contactId)) setVersion((v) => v + 1);
      }),
    [conversationId, contactId],
  );
  const retry = () => {
    setError(null);
    setVersion((v) => v + 1);
  };
  return { options, error, retry };
}

/** "via <channel>" (unavailable ones disabled, with the server's reason) and "to <recipient>". */
export function ReplyChannelPicker({ recipient }: { recipient: Recipient }) {
  const { options, channel, to } = recipient;
  return (
    <>
      <label className="inline">
        via
        <select
          value={channel ?? ""}
          onChange={(e) => recipient.choose(e.target.value as Channel)}
          disabled={!options}
          aria-label="Reply channel"
          data-testid="composer-channel"
        >
          {!options && <option value="">{recipient.failed ? "none" : "loading…"}</option>}
          {options?.options.map((o) => (
            <option key={o.channel} value={o.channel} disabled={!o.available} title={o.reason || undefined}>
              {channelLabel(o.channel)}
              {o.available ? "" : " (unavailable)"}
            </option>
          ))}
        </select>
      </label>
      {to && (
        <span className="muted small recipient" title={to} data-testid="composer-recipient">
          to {formatRecipient(to)}
        </span>
      )}
    </>
  );
}

export function EmailFields({ recipient }: { recipient: Recipient }) {
  return (
    <div className="email-fields">
      <input
        className="subject"
        placeholder="Subject"
        aria-label="Email subject"
        value={recipient.subject}
        onChange={(e) => recipient.setSubject(e.target.value)}
        data-testid="composer-subject"
      />
      <input
        className="cc"
        type="text"
        inputMode="email"
        placeholder="Cc: name@example.com, …"
        aria-label="Cc (comma-separated addresses)"
        value={recipient.cc}
        onChange={(e) => recipient.setCc(e.target.value)}
        data-testid="composer-cc"
      />
    </div>
  );
}
