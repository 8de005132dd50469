import { type DragEvent, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { api, errorText } from "../api/client";
import type { Agent, CannedResponse, Channel, Conversation, Me, Message, ReplyOptions } from "../api/types";
import { inboxStore, onLiveEvents, sendPresence, useInbox } from "../live";
import { onCommand } from "../ui/commands";
import { channelLabel, fileSize } from "../ui/format";
import { Icon } from "../ui/icons";
import { sendMessage } from "./actions";
import { CollisionWarning } from "./CollisionWarning";
import { MAX_FILES, MAX_FILE_BYTES, SMS_MAX_TOTAL_BYTES, addFiles, attachmentProblem, multipartBody } from "./attachments";
import { ccAddresses, collidingReplies, defaultSubject, formatRecipient, replyOptionsStale, replyTarget } from "./composer-logic";
import { activeMentionQuery, insertMention, matchAgents, mentionIdsInText, type MentionRef } from "./mentions";
import { useMeta } from "./meta";
import { cannedMatches, pickerKey } from "./picker";
import { smsInfo } from "./sms";
import { SuggestionList, optionId } from "./SuggestionList";

type Mode = "reply" | "note";

export function Composer({ me, conversation }: { me: Me; conversation: Conversation }) {
  const timeline = useInbox((s) => s.timeline.messages);
  const canned = useMeta((m) => m.canned);
  const agents = useMeta((m) => m.agents);
  const [mode, setMode] = useState<Mode>("reply");
  const [text, setText] = useState("");
  const [caret, setCaret] = useState(0);
  const [subject, setSubject] = useState<string | null>(null);
  const [cc, setCc] = useState("");
  const [chosen, setChosen] = useState<Channel | null>(null);
  /** The server's reply options, the only word on where replies can go: null until its first answer. */
  const [replyOpts, setReplyOpts] = useState<ReplyOptions | null>(null);
  /** Why the first answer could not be had (a later failure keeps the answer we have). */
  const [replyOptsError, setReplyOptsError] = useState<string | null>(null);
  const [replyOptsVersion, setReplyOptsVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [collision, setCollision] = useState<Message[] | null>(null);
  const [picked, setPicked] = useState<MentionRef[]>([]);
  const [pickerIndex, setPickerIndex] = useState(0);
  /** The "@" position the user dismissed the mention list for (Esc), so it stays closed for that one. */
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  /** The "/shortcut" text the user dismissed the canned list for (Esc). */
  const [cannedDismissed, setCannedDismissed] = useState<string | null>(null);
  const [files, setFiles] = useState<File[]>([]);
  const [fileError, setFileError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const pendingCaret = useRef<number | null>(null);
  const seenAtTypingStart = useRef<Set<number> | null>(null);

  const contactId = conversation.contact.id;
  // Where replies can go comes from the server: on open, and again whenever it may have changed.
  useEffect(() => {
    const ctl = new AbortController();
    api.replyOptions(conversation.id, ctl.signal).then(
      (opts) => {
        if (ctl.signal.aborted) return;
        setReplyOpts(opts);
        setReplyOptsError(null);
      },
      (e) => {
        if (!ctl.signal.aborted) setReplyOptsError(errorText(e)); // shown only while there is no answer yet
      },
    );
    return () => ctl.abort();
  }, [conversation.id, replyOptsVersion]);
  useEffect(
    () =>
      onLiveEvents((events) => {
        if (replyOptionsStale(events, conversation.id, contactId)) setReplyOptsVersion((v) => v + 1);
      }),
    [conversation.id, contactId],
  );

  const target = replyTarget(replyOpts, replyOptsError, chosen);
  const retryReplyOpts = () => {
    setReplyOptsError(null);
    setReplyOptsVersion((v) => v + 1);
  };
  /** The channel this reply goes by: null for a note, and for a reply until the server has answered. */
  const channel = mode === "reply" ? target.channel : null;
  const blocked = mode === "reply" ? target.blocked : null;
  const isEmail = channel === "email";
  const subjectValue = subject ?? defaultSubject(timeline);
  const sms = channel === "sms" ? smsInfo(text) : null;
  const attachProblem = attachmentProblem(files, channel);

  const mentionQuery = mode === "note" ? activeMentionQuery(text, caret, picked.map((p) => p.name)) : null;
  const mentionMatches = useMemo(
    () => (mentionQuery && mentionQuery.start !== dismissedAt ? matchAgents(agents, mentionQuery.query, me.id) : []),
    [mentionQuery?.start, mentionQuery?.query, dismissedAt, agents, me.id], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const cannedOffered = text === cannedDismissed ? [] : cannedMatches(text, canned);
  const mentionListId = `mention-listbox-${conversation.id}`;
  const cannedListId = `canned-listbox-${conversation.id}`;

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

  // Put the caret after an inserted mention.
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

  const updateText = (value: string, caretPos: number) => {
    setText(value);
    setCaret(caretPos);
    setPickerIndex(0);
    if (dismissedAt !== null && value[dismissedAt] !== "@") setDismissedAt(null);
    if (error) setError(null);
  };

  const chooseCanned = (c: CannedResponse) => {
    pendingCaret.current = c.text.length;
    setText(c.text);
    setCaret(c.text.length);
    setPickerIndex(0);
    inputRef.current?.focus();
  };

  const chooseMention = (agent: Agent) => {
    if (!mentionQuery) return;
    const next = insertMention(text, mentionQuery, caret, agent);
    const name = agent.name?.trim() || agent.email;
    setPicked((p) => (p.some((x) => x.id === agent.id) ? p : [...p, { id: agent.id, name }]));
    pendingCaret.current = next.caret;
    setText(next.text);
    setCaret(next.caret);
    setPickerIndex(0);
    inputRef.current?.focus();
  };

  // At most one list is open: a mention needs "@" after a space, a canned shortcut is "/word" alone.
  const suggestions = mentionMatches.length
    ? {
        id: mentionListId,
        items: mentionMatches,
        choose: (i: number) => chooseMention(mentionMatches[i]!),
        dismiss: () => setDismissedAt(mentionQuery!.start),
      }
    : cannedOffered.length
      ? { id: cannedListId, items: cannedOffered, choose: (i: number) => chooseCanned(cannedOffered[i]!), dismiss: () => setCannedDismissed(text) }
      : null;
  const activeIndex = Math.min(pickerIndex, Math.max(0, (suggestions?.items.length ?? 1) - 1));

  const takeFiles = (incoming: File[]) => {
    if (!incoming.length) return;
    const res = addFiles(files, incoming);
    setFiles(res.files);
    setFileError(res.error);
  };

  const doSend = async () => {
    setSending(true);
    setError(null);
    setCollision(null);
    const fields = {
      text: text.trim(),
      private: mode === "note",
      ...(channel ? { channel } : {}),
      ...(isEmail && subjectValue ? { subject: subjectValue } : {}),
      ...(isEmail && ccAddresses(cc).length ? { cc: ccAddresses(cc) } : {}),
    };
    const mentions = mode === "note" ? mentionIdsInText(text, picked) : [];
    try {
      await sendMessage(
        conversation.id,
        files.length
          ? multipartBody({ ...fields, mentions }, files)
          : { ...fields, ...(mentions.length ? { mentions } : {}) },
      );
      setText("");
      setCaret(0);
      setSubject(null);
      setCc("");
      setPicked([]);
      setFiles([]);
      setFileError(null);
      inputRef.current?.focus();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setSending(false);
    }
  };

  const canSend = hasText && !sending && !blocked && !attachProblem && (mode === "note" || !!channel);
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

  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");
  const attachDisabled = !!blocked || sending;

  return (
    <div
      className={`composer${mode === "note" ? " note-mode" : ""}${dragging ? " dragging" : ""}`}
      data-testid="composer"
      data-mode={mode}
      role="region"
      aria-label={mode === "note" ? "Write a private note" : "Write a reply"}
      onDragEnter={(e) => {
        if (!hasFiles(e) || attachDisabled) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e) || attachDisabled) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        if (!dragging) setDragging(true);
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setDragging(false);
        if (!attachDisabled) takeFiles(Array.from(e.dataTransfer.files));
      }}
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
        {mode === "reply" && (
          <label className="inline">
            via
            <select
              value={target.channel ?? ""}
              onChange={(e) => setChosen(e.target.value as Channel)}
              disabled={!replyOpts}
              aria-label="Reply channel"
              data-testid="composer-channel"
            >
              {!replyOpts && <option value="">{replyOptsError ? "none" : "loading…"}</option>}
              {replyOpts?.options.map((o) => (
                <option key={o.channel} value={o.channel} disabled={!o.available} title={o.reason || undefined}>
                  {channelLabel(o.channel)}
                  {o.available ? "" : " (unavailable)"}
                </option>
              ))}
            </select>
          </label>
        )}
        {mode === "reply" && target.to && (
          <span className="muted small recipient" title={target.to} data-testid="composer-recipient">
            to {formatRecipient(target.to)}
          </span>
        )}
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
      {isEmail && (
        <div className="email-fields">
          <input
            className="subject"
            placeholder="Subject"
            aria-label="Email subject"
            value={subjectValue}
            onChange={(e) => setSubject(e.target.value)}
            data-testid="composer-subject"
          />
          <input
            className="cc"
            type="text"
            inputMode="email"
            placeholder="Cc: name@example.com, …"
            aria-label="Cc (comma-separated addresses)"
            value={cc}
            onChange={(e) => setCc(e.target.value)}
            data-testid="composer-cc"
          />
        </div>
      )}
      {blocked && (
        <div className="disabled-reason" role="note" data-testid="composer-disabled-reason">
          {blocked}{" "}
          {!replyOpts && (
            <button type="button" className="link" onClick={retryReplyOpts} data-testid="composer-reply-options-retry">
              Try again
            </button>
          )}{" "}
          <button type="button" className="link" onClick={switchToNote} data-testid="composer-note-instead">
            Write a private note instead
          </button>
        </div>
      )}
      <div className="composer-input-wrap">
        {mentionMatches.length > 0 && (
          <SuggestionList
            id={mentionListId}
            label="Mention a colleague"
            items={mentionMatches}
            active={activeIndex}
            onChoose={chooseMention}
            onHover={setPickerIndex}
            testId="mention-picker"
            optionTestId="mention-option"
          >
            {(a) => (
              <>
                <span className="avatar" aria-hidden="true">
                  {(a.name || a.email).slice(0, 1).toUpperCase()}
                </span>
                <span className="mention-name">{a.name || a.email}</span>
                <span className="mention-meta">
                  {a.email}
                  {a.teams.length ? ` · ${a.teams.map((t) => t.name).join(", ")}` : ""}
                  {a.role !== "agent" ? ` · ${a.role}` : ""}
                </span>
              </>
            )}
          </SuggestionList>
        )}
        {cannedOffered.length > 0 && (
          <SuggestionList
            id={cannedListId}
            label="Canned responses"
            items={cannedOffered}
            active={activeIndex}
            onChoose={chooseCanned}
            onHover={setPickerIndex}
            testId="canned-picker"
            optionTestId="canned-option"
          >
            {(c) => (
              <>
                <strong className="canned-shortcut">/{c.shortcut}</strong>
                <span className="canned-text">{c.text}</span>
              </>
            )}
          </SuggestionList>
        )}
        <textarea
          ref={inputRef}
          value={text}
          onChange={(e) => updateText(e.target.value, e.target.selectionStart ?? e.target.value.length)}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={(e) => {
            const action = suggestions && pickerKey(e, activeIndex, suggestions.items.length);
            if (action) {
              e.preventDefault(); // Esc too: it closes the list and keeps focus here; the next Esc leaves the field
              if (action.type === "move") setPickerIndex(action.index);
              else if (action.type === "choose") suggestions.choose(activeIndex);
              else suggestions.dismiss();
              return;
            }
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              trySend();
            }
          }}
          onPaste={(e) => {
            const pasted = Array.from(e.clipboardData?.files ?? []);
            if (pasted.length && !attachDisabled) {
              if (!e.clipboardData.getData("text")) e.preventDefault();
              takeFiles(pasted);
            }
          }}
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
          aria-autocomplete="list"
          aria-expanded={!!suggestions}
          aria-controls={suggestions?.id}
          aria-activedescendant={suggestions ? optionId(suggestions.id, suggestions.items[activeIndex]!) : undefined}
          data-testid="composer-input"
        />
        {dragging && (
          <div className="drop-hint" aria-hidden="true">
            <Icon name="paperclip" size={20} /> Drop files to attach
          </div>
        )}
      </div>
      {files.length > 0 && (
        <ul className="file-chips" aria-label="Files to send">
          {files.map((f, i) => (
            <FileChip
              key={`${f.name}-${f.size}-${i}`}
              file={f}
              onRemove={() => {
                setFiles((fs) => fs.filter((x) => x !== f));
                setFileError(null);
              }}
            />
          ))}
        </ul>
      )}
      {(fileError || attachProblem) && (
        <div className="form-error small" role="alert" data-testid="composer-attach-error">
          <Icon name="warning" /> {[fileError, attachProblem].filter(Boolean).join(" ")}
        </div>
      )}
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
        <label
          className={`icon-button attach${attachDisabled ? " disabled" : ""}`}
          title={`Attach files (up to ${MAX_FILES}, ${fileSize(MAX_FILE_BYTES)} each${channel === "sms" ? `, ${fileSize(SMS_MAX_TOTAL_BYTES)} in total by SMS` : ""}). You can also drop or paste them.`}
          data-testid="composer-attach"
        >
          <input
            type="file"
            multiple
            className="sr-only"
            aria-label="Attach files"
            disabled={attachDisabled}
            onChange={(e) => {
              takeFiles(Array.from(e.target.files ?? []));
              e.target.value = ""; // choosing the same file again still fires change
            }}
            data-testid="composer-file-input"
          />
          <Icon name="paperclip" size={18} />
          {files.length > 0 && <span className="count">{files.length}</span>}
        </label>
        <span className="muted small foot-hint">
          {files.length > 0 && !hasText ? "Add a message to send with the files." : ""}
        </span>
        <button type="button" className="primary" onClick={trySend} disabled={!canSend} data-testid="composer-send">
          {sending ? "Sending…" : mode === "note" ? "Add note" : channel ? `Send ${channelLabel(channel)}` : "Send"}
        </button>
      </div>
    </div>
  );
}

function FileChip({ file, onRemove }: { file: File; onRemove: () => void }) {
  const [preview, setPreview] = useState<string | null>(null);
  useEffect(() => {
    if (!file.type.startsWith("image/") || typeof URL.createObjectURL !== "function") return;
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);
  return (
    <li className="file-chip" data-testid="attachment-chip" title={`${file.name} (${fileSize(file.size)})`}>
      {preview ? <img src={preview} alt="" /> : <Icon name="file" />}
      <span className="file-name">{file.name}</span>
      <span className="muted">{fileSize(file.size)}</span>
      <button type="button" className="chip-remove" onClick={onRemove} aria-label={`Remove ${file.name}`} data-testid="attachment-chip-remove">
        <Icon name="close" size={14} />
      </button>
    </li>
  );
}
