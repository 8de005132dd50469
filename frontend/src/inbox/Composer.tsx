import { useEffect, useMemo, useRef, useState } from "react";
import { ApiError, describeError } from "../api/client";
import type { Channel, Conversation, Me, Message } from "../api/types";
import { inboxStore, sendPresence, useInbox } from "../live";
import { onCommand } from "../ui/commands";
import { channelLabel } from "../ui/format";
import { sendMessage } from "./actions";
import { collidingReplies, defaultChannel, defaultSubject, optOutReason, replyChannels } from "./composer-logic";
import { useMeta } from "./meta";
import { smsInfo } from "./sms";

type Mode = "reply" | "note";

export function Composer({ me, conversation }: { me: Me; conversation: Conversation }) {
  const contact = useInbox((s) => (s.contact && s.contact.id === conversation.contact.id ? s.contact : null));
  const timeline = useInbox((s) => s.timeline.messages);
  const canned = useMeta((m) => m.canned);
  const [mode, setMode] = useState<Mode>("reply");
  const [text, setText] = useState("");
  const [subject, setSubject] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Channel | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [collision, setCollision] = useState<Message[] | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const seenAtTypingStart = useRef<Set<number> | null>(null);

  const options = useMemo(() => replyChannels(contact, conversation), [contact, conversation]);
  const channel: Channel = chosen && options.includes(chosen) ? chosen : defaultChannel(options, timeline, conversation);
  const blocked = mode === "reply" ? optOutReason(contact, channel) : null;
  const isEmail = mode === "reply" && channel === "email";
  const subjectValue = subject ?? defaultSubject(timeline);
  const sms = mode === "reply" && channel === "sms" ? smsInfo(text) : null;

  useEffect(() => onCommand("focusComposer", () => inputRef.current?.focus()), []);
  useEffect(
    () =>
      onCommand("noteMode", () => {
        setMode("note");
        inputRef.current?.focus();
      }),
    [],
  );

  // Presence: "replying" while there's text, back to "viewing" when cleared.
  const hasText = text.trim().length > 0;
  useEffect(() => {
    if (hasText) {
      seenAtTypingStart.current = new Set(inboxStore.get().timeline.messages.map((m) => m.id));
      sendPresence(conversation.id, "replying");
      const beat = setInterval(() => sendPresence(conversation.id, "replying"), 30_000);
      return () => {
        clearInterval(beat);
        sendPresence(conversation.id, "viewing");
      };
    }
    seenAtTypingStart.current = null;
    return undefined;
  }, [hasText, conversation.id]);

  const doSend = async () => {
    setSending(true);
    setError(null);
    setCollision(null);
    try {
      await sendMessage(conversation.id, {
        text: text.trim(),
        ...(mode === "note" ? { private: true } : { channel }),
        ...(isEmail && subjectValue ? { subject: subjectValue } : {}),
      });
      setText("");
      setSubject(null);
      inputRef.current?.focus();
    } catch (e) {
      setError(e instanceof ApiError ? (describeError(e.body) ?? e.message) : e instanceof Error ? e.message : String(e));
    } finally {
      setSending(false);
    }
  };

  const trySend = () => {
    if (!hasText || sending || blocked) return;
    if (mode === "reply" && seenAtTypingStart.current) {
      const clash = collidingReplies(inboxStore.get().timeline.messages, conversation.id, me.id, seenAtTypingStart.current);
      if (clash.length) {
        setCollision(clash);
        return;
      }
    }
    void doSend();
  };

  const cannedMatches =
    text.startsWith("/") && !text.includes(" ") && canned.length
      ? canned.filter((c) => c.shortcut.toLowerCase().startsWith(text.slice(1).toLowerCase())).slice(0, 6)
      : [];

  return (
    <div className={`composer${mode === "note" ? " note-mode" : ""}`} data-testid="composer" data-mode={mode}>
      <div className="composer-bar">
        <div className="seg" role="group" aria-label="Composer mode">
          <button
            type="button"
            aria-pressed={mode === "reply"}
            className={mode === "reply" ? "active" : ""}
            onClick={() => setMode("reply")}
            data-testid="composer-mode-reply"
          >
            Reply
          </button>
          <button
            type="button"
            aria-pressed={mode === "note"}
            className={mode === "note" ? "active" : ""}
            onClick={() => setMode("note")}
            data-testid="composer-mode-note"
          >
            Note
          </button>
        </div>
        {mode === "reply" && (
          <label className="inline">
            <span className="sr-only">Reply channel</span>
            via
            <select
              value={channel}
              onChange={(e) => setChosen(e.target.value as Channel)}
              aria-label="Reply channel"
              data-testid="composer-channel"
            >
              {options.map((c) => (
                <option key={c} value={c}>
                  {channelLabel(c)}
                </option>
              ))}
            </select>
          </label>
        )}
        {mode === "note" && <span className="muted small">Private note: only your team sees it.</span>}
        <span className="spacer" />
        {sms && (
          <span className="sms-counter" data-testid="sms-counter" title={`${sms.encoding} encoding`}>
            {sms.length} chars · {sms.segments} segment{sms.segments === 1 ? "" : "s"} · {sms.encoding}
          </span>
        )}
      </div>
      {isEmail && (
        <input
          className="subject"
          placeholder="Subject"
          aria-label="Email subject"
          value={subjectValue}
          onChange={(e) => setSubject(e.target.value)}
          data-testid="composer-subject"
        />
      )}
      {blocked && (
        <div className="disabled-reason" role="note" data-testid="composer-disabled-reason">
          {blocked}
        </div>
      )}
      {cannedMatches.length > 0 && (
        <ul className="canned" aria-label="Canned responses">
          {cannedMatches.map((c) => (
            <li key={c.id}>
              <button type="button" className="link" onClick={() => setText(c.text)}>
                <strong>/{c.shortcut}</strong> {c.text.slice(0, 80)}
              </button>
            </li>
          ))}
        </ul>
      )}
      <textarea
        ref={inputRef}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (error) setError(null);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            trySend();
          }
        }}
        rows={3}
        disabled={!!blocked || sending}
        placeholder={mode === "note" ? "Add a private note…  (Ctrl/⌘+Enter to save)" : `Reply by ${channelLabel(channel)}…  (Ctrl/⌘+Enter to send, / for canned)`}
        aria-label={mode === "note" ? "Note text" : "Reply text"}
        data-testid="composer-input"
      />
      {error && (
        <div className="form-error" role="alert" data-testid="composer-error">
          {error}
        </div>
      )}
      {collision && (
        <div className="collision" role="alertdialog" aria-label="Reply collision" data-testid="collision-confirm">
          <span>
            {collision.map((m) => m.sender?.name ?? "Someone").filter((v, i, a) => a.indexOf(v) === i).join(", ")} replied while you were typing. Send
            anyway?
          </span>
          <button type="button" className="primary" onClick={() => void doSend()} data-testid="collision-send">
            Send anyway
          </button>
          <button
            type="button"
            onClick={() => {
              setCollision(null);
              seenAtTypingStart.current = new Set(inboxStore.get().timeline.messages.map((m) => m.id));
            }}
            data-testid="collision-cancel"
          >
            Review first
          </button>
        </div>
      )}
      <div className="composer-foot">
        <button
          type="button"
          className="primary"
          onClick={trySend}
          disabled={!hasText || sending || !!blocked}
          data-testid="composer-send"
        >
          {sending ? "Sending…" : mode === "note" ? "Add note" : `Send ${channelLabel(channel)}`}
        </button>
      </div>
    </div>
  );
}
