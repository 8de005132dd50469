import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { errorText } from "../api/client";
import type { Conversation, Me, Message } from "../api/types";
import { inboxStore, sendPresence } from "../live";
import { onCommand } from "../ui/commands";
import { channelLabel } from "../ui/format";
import { sendMessage } from "./actions";
import { multipartBody } from "./attachments";
import { CollisionWarning } from "./CollisionWarning";
import { collidingReplies } from "./composer-logic";
import { AttachButton, AttachedFiles, DropHint, useAttachments } from "./ComposerAttachments";
import { SuggestionPopup, useSuggestions } from "./ComposerMentions";
import { EmailFields, ReplyChannelPicker, useRecipient } from "./ComposerRecipient";
import { smsInfo } from "./sms";

type Mode = "reply" | "note";

/**
 * Replies and private notes: the text, the mode, sending (with the collision check) and presence. Where a
 * reply goes is the recipient part's, @mentions and canned responses the mentions part's, files the
 * attachments part's.
 */
export function Composer({ me, conversation }: { me: Me; conversation: Conversation }) {
  const [mode, setMode] = useState<Mode>("reply");
  const [text, setText] = useState("");
  const [caret, setCaret] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [collision, setCollision] = useState<Message[] | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const pendingCaret = useRef<number | null>(null);
  const seenAtTypingStart = useRef<Set<number> | null>(null);

  const recipient = useRecipient(conversation);
  /** The channel this reply goes by: null for a note, and for a reply until the server has answered. */
  const channel = mode === "reply" ? recipient.channel : null;
  const blocked = mode === "reply" ? recipient.blocked : null;
  const attachments = useAttachments(channel, !!blocked || sending);
  const replaceText = (value: string, at: number) => {
    pendingCaret.current = at;
    setText(value);
    setCaret(at);
    inputRef.current?.focus();
  };
  const suggestions = useSuggestions({ listId: String(conversation.id), note: mode === "note", text, caret, meId: me.id, replace: replaceText });
  const sms = channel === "sms" ? smsInfo(text) : null;

  useEffect(() => onCommand("focusComposer", () => inputRef.current?.focus()), []);
  // Note mode with the caret in the box: focused after the render that enables it (replies may be blocked).
  const focusAfterModeChange = useRef(false);
  const switchToNote = () => {
    inputRef.current?.focus(); // enough when the box is already enabled
    setMode("note");
    focusAfterModeChange.current = true;
  };
  useEffect(() => {
    if (focusAfterModeChange.current) inputRef.current?.focus();
    focusAfterModeChange.current = false;
  }, [mode]);
  useEffect(() => onCommand("noteMode", switchToNote), []);

  // Put the caret after an inserted mention or canned response.
  useLayoutEffect(() => {
    const el = inputRef.current;
    if (el && pendingCaret.current !== null) {
      el.setSelectionRange(pendingCaret.current, pendingCaret.current);
      pendingCaret.current = null;
    }
  }, [text]);

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
    const fields = { text: text.trim(), private: mode === "note", ...(mode === "reply" ? recipient.fields() : {}) };
    const mentions = mode === "note" ? suggestions.mentionIds(text) : [];
    try {
      await sendMessage(
        conversation.id,
        attachments.files.length
          ? multipartBody({ ...fields, mentions }, attachments.files)
          : { ...fields, ...(mentions.length ? { mentions } : {}) },
      );
      setText("");
      setCaret(0);
      recipient.clear();
      suggestions.clear();
      attachments.clear();
      inputRef.current?.focus();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setSending(false);
    }
  };

  const canSend = hasText && !sending && !blocked && !attachments.problem && (mode === "note" || !!channel);
  const trySend = () => {
    if (!canSend) return;
    if (mode === "reply" && seenAtTypingStart.current) {
      const clash = collidingReplies(inboxStore.get().timeline.messages, conversation.id, me.id, seenAtTypingStart.current);
      if (clash.length) {
        setCollision(clash);
        return;
      }
    }
    void doSend();
  };

  return (
    <div
      className={`composer${mode === "note" ? " note-mode" : ""}${attachments.dragging ? " dragging" : ""}`}
      data-testid="composer"
      data-mode={mode}
      role="region"
      aria-label={mode === "note" ? "Write a private note" : "Write a reply"}
      {...attachments.dropZone}
    >
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
        {mode === "reply" && <ReplyChannelPicker recipient={recipient} />}
        {mode === "note" && (
          <span className="muted small" id={`note-hint-${conversation.id}`}>
            Private note: only your team sees it. Type <kbd>@</kbd> to mention a colleague.
          </span>
        )}
        <span className="spacer" />
        {sms && (
          <span className="sms-counter" data-testid="sms-counter" title={`${sms.encoding} encoding`}>
            {sms.length} chars · {sms.segments} segment{sms.segments === 1 ? "" : "s"} · {sms.encoding}
          </span>
        )}
      </div>
      {channel === "email" && <EmailFields recipient={recipient} />}
      {blocked && (
        <div className="disabled-reason" role="note" data-testid="composer-disabled-reason">
          {blocked}{" "}
          {recipient.failed && (
            <button type="button" className="link" onClick={recipient.retry} data-testid="composer-reply-options-retry">
              Try again
            </button>
          )}{" "}
          <button type="button" className="link" onClick={switchToNote} data-testid="composer-note-instead">
            Write a private note instead
          </button>
        </div>
      )}
      <div className="composer-input-wrap">
        <SuggestionPopup suggestions={suggestions} />
        <textarea
          ref={inputRef}
          value={text}
          onChange={(e) => {
            const value = e.target.value;
            setText(value);
            setCaret(e.target.selectionStart ?? value.length);
            suggestions.typed(value);
            if (error) setError(null);
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={(e) => {
            if (suggestions.keyDown(e)) {
              e.preventDefault(); // Esc too: it closes the list and keeps focus here; the next Esc leaves the field
              return;
            }
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              trySend();
            }
          }}
          onPaste={attachments.onPaste}
          rows={3}
          disabled={!!blocked}
          readOnly={sending /* not disabled: a disabled box would lose the focus on every send */}
          placeholder={
            mode === "note"
              ? "Add a private note… @ to mention (Ctrl+Enter to save)"
              : `${channel ? `Reply by ${channelLabel(channel)}` : "Write a reply"}… (Ctrl+Enter to send, / for canned)`
          }
          aria-label={mode === "note" ? "Note text" : "Reply text"}
          aria-describedby={mode === "note" ? `note-hint-${conversation.id}` : undefined}
          {...suggestions.inputProps}
          data-testid="composer-input"
        />
        {attachments.dragging && <DropHint />}
      </div>
      <AttachedFiles attachments={attachments} />
      {error && (
        <div className="form-error" role="alert" data-testid="composer-error">
          {error}
        </div>
      )}
      {collision && (
        <CollisionWarning
          replies={collision}
          onSend={() => void doSend()}
          onReview={() => {
            setCollision(null);
            seenAtTypingStart.current = new Set(inboxStore.get().timeline.messages.map((m) => m.id));
            inputRef.current?.focus();
          }}
        />
      )}
      <div className="composer-foot">
        <AttachButton attachments={attachments} />
        <span className="muted small foot-hint">
          {attachments.files.length > 0 && !hasText ? "Add a message to send with the files." : ""}
        </span>
        <button type="button" className="primary" onClick={trySend} disabled={!canSend} data-testid="composer-send">
          {sending ? "Sending…" : mode === "note" ? "Add note" : channel ? `Send ${channelLabel(channel)}` : "Send"}
        </button>
      </div>
    </div>
  );
}
