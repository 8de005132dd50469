import { type DragEvent, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { ApiError, api, describeError } from "../api/client";
import type { Agent, Channel, Conversation, Me, Message, ReplyOption, ReplyOptions } from "../api/types";
import { inboxStore, onLiveEvents, sendPresence, useInbox } from "../live";
import { onCommand } from "../ui/commands";
import { channelLabel, fileSize } from "../ui/format";
import { Icon } from "../ui/icons";
import { sendMessage } from "./actions";
import { MAX_FILES, MAX_FILE_BYTES, SMS_MAX_TOTAL_BYTES, addFiles, attachmentProblem, multipartBody } from "./attachments";
import {
  collidingReplies,
  defaultChannel,
  defaultSubject,
  formatRecipient,
  optOutReason,
  replyChannels,
  replyOption,
  replyOptionsStale,
  selectedChannel,
  unavailableReason,
} from "./composer-logic";
import { activeMentionQuery, insertMention, matchAgents, mentionIdsInText, type MentionRef } from "./mentions";
import { useMeta } from "./meta";
import { smsInfo } from "./sms";

type Mode = "reply" | "note";

export function Composer({ me, conversation }: { me: Me; conversation: Conversation }) {
  const contact = useInbox((s) => (s.contact && s.contact.id === conversation.contact.id ? s.contact : null));
  const timeline = useInbox((s) => s.timeline.messages);
  const canned = useMeta((m) => m.canned);
  const agents = useMeta((m) => m.agents);
  const [mode, setMode] = useState<Mode>("reply");
  const [text, setText] = useState("");
  const [caret, setCaret] = useState(0);
  const [subject, setSubject] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Channel | null>(null);
  /** The server's reply options (null until the first answer; the local guess is used meanwhile). */
  const [replyOpts, setReplyOpts] = useState<ReplyOptions | null>(null);
  const [replyOptsVersion, setReplyOptsVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [collision, setCollision] = useState<Message[] | null>(null);
  const [picked, setPicked] = useState<MentionRef[]>([]);
  const [pickerIndex, setPickerIndex] = useState(0);
  /** The "@" position the user dismissed the picker for (Esc), so it stays closed for that one. */
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
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
        if (!ctl.signal.aborted) setReplyOpts(opts);
      },
      () => {
        /* keep what we had (or the local guess); the send itself still validates */
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

  const guessed = useMemo(() => replyChannels(contact, conversation), [contact, conversation]);
  const options: ReplyOption[] = useMemo(
    () => replyOpts?.options ?? guessed.map((c) => ({ channel: c, available: true, reason: "", to: "", inbox: null })),
    [replyOpts, guessed],
  );
  const channel: Channel = replyOpts
    ? selectedChannel(replyOpts, chosen)
    : chosen && guessed.includes(chosen)
      ? chosen
      : defaultChannel(guessed, timeline, conversation);
  const blocked = mode === "reply" ? (replyOpts ? unavailableReason(replyOpts, channel) : optOutReason(contact, channel)) : null;
  const recipient = replyOpts ? (replyOption(replyOpts, channel)?.to ?? "") : "";
  const isEmail = mode === "reply" && channel === "email";
  const subjectValue = subject ?? defaultSubject(timeline);
  const sms = mode === "reply" && channel === "sms" ? smsInfo(text) : null;
  const attachProblem = attachmentProblem(files, mode, channel);

  const mentionQuery = mode === "note" ? activeMentionQuery(text, caret, picked.map((p) => p.name)) : null;
  const mentionMatches = useMemo(
    () => (mentionQuery && mentionQuery.start !== dismissedAt ? matchAgents(agents, mentionQuery.query, me.id) : []),
    [mentionQuery?.start, mentionQuery?.query, dismissedAt, agents, me.id], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const pickerOpen = mentionMatches.length > 0;
  const activeIndex = Math.min(pickerIndex, Math.max(0, mentionMatches.length - 1));
  const listboxId = `mention-listbox-${conversation.id}`;

  useEffect(() => onCommand("focusComposer", () => inputRef.current?.focus()), []);
  useEffect(
    () =>
      onCommand("noteMode", () => {
        setMode("note");
        inputRef.current?.focus();
      }),
    [],
  );

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
      ...(mode === "reply" ? { channel } : {}),
      ...(isEmail && subjectValue ? { subject: subjectValue } : {}),
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
      setPicked([]);
      setFiles([]);
      setFileError(null);
      inputRef.current?.focus();
    } catch (e) {
      setError(e instanceof ApiError ? (describeError(e.body) ?? e.message) : e instanceof Error ? e.message : String(e));
    } finally {
      setSending(false);
    }
  };

  const canSend = hasText && !sending && !blocked && !attachProblem;
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

  const cannedMatches =
    text.startsWith("/") && !text.includes(" ") && canned.length
      ? canned.filter((c) => c.shortcut.toLowerCase().startsWith(text.slice(1).toLowerCase())).slice(0, 6)
      : [];

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
              value={channel}
              onChange={(e) => setChosen(e.target.value as Channel)}
              aria-label="Reply channel"
              data-testid="composer-channel"
            >
              {options.map((o) => (
                <option key={o.channel} value={o.channel} disabled={!o.available} title={o.reason || undefined}>
                  {channelLabel(o.channel)}
                  {o.available ? "" : " (unavailable)"}
                </option>
              ))}
            </select>
          </label>
        )}
        {mode === "reply" && recipient && (
          <span className="muted small recipient" title={recipient} data-testid="composer-recipient">
            to {formatRecipient(recipient)}
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
      <div className="composer-input-wrap">
        {pickerOpen && (
          <ul className="mention-picker" role="listbox" id={listboxId} aria-label="Mention a colleague" data-testid="mention-picker">
            {mentionMatches.map((a, i) => (
              <li
                key={a.id}
                id={`${listboxId}-${a.id}`}
                role="option"
                aria-selected={i === activeIndex}
                className={i === activeIndex ? "active" : ""}
                onMouseDown={(e) => e.preventDefault() /* keep focus in the textarea */}
                onMouseEnter={() => setPickerIndex(i)}
                onClick={() => chooseMention(a)}
                data-testid="mention-option"
                data-agent-id={a.id}
              >
                <span className="avatar" aria-hidden="true">
                  {(a.name || a.email).slice(0, 1).toUpperCase()}
                </span>
                <span className="mention-name">{a.name || a.email}</span>
                <span className="mention-meta">
                  {a.email}
                  {a.teams.length ? ` · ${a.teams.map((t) => t.name).join(", ")}` : ""}
                  {a.role !== "agent" ? ` · ${a.role}` : ""}
                </span>
              </li>
            ))}
          </ul>
        )}
        <textarea
          ref={inputRef}
          value={text}
          onChange={(e) => updateText(e.target.value, e.target.selectionStart ?? e.target.value.length)}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
          onKeyDown={(e) => {
            if (pickerOpen) {
              if (e.key === "ArrowDown" || e.key === "ArrowUp") {
                e.preventDefault();
                const n = mentionMatches.length;
                setPickerIndex((activeIndex + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
                return;
              }
              if ((e.key === "Enter" && !e.ctrlKey && !e.metaKey && !e.shiftKey) || e.key === "Tab") {
                e.preventDefault();
                chooseMention(mentionMatches[activeIndex]!);
                return;
              }
              if (e.key === "Escape") {
                e.preventDefault(); // keep focus here; the next Esc leaves the field
                setDismissedAt(mentionQuery!.start);
                return;
              }
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
          disabled={!!blocked || sending}
          placeholder={
            mode === "note"
              ? "Add a private note… @ to mention (Ctrl+Enter to save)"
              : `Reply by ${channelLabel(channel)}… (Ctrl+Enter to send, / for canned)`
          }
          aria-label={mode === "note" ? "Note text" : "Reply text"}
          aria-describedby={mode === "note" ? `note-hint-${conversation.id}` : undefined}
          aria-autocomplete={mode === "note" ? "list" : undefined}
          aria-expanded={mode === "note" ? pickerOpen : undefined}
          aria-controls={pickerOpen ? listboxId : undefined}
          aria-activedescendant={pickerOpen ? `${listboxId}-${mentionMatches[activeIndex]!.id}` : undefined}
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
        <label
          className={`icon-button attach${attachDisabled ? " disabled" : ""}`}
          title={`Attach files (up to ${MAX_FILES}, ${fileSize(MAX_FILE_BYTES)} each${mode === "reply" && channel === "sms" ? `, ${fileSize(SMS_MAX_TOTAL_BYTES)} in total by SMS` : ""}). You can also drop or paste them.`}
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
          {sending ? "Sending…" : mode === "note" ? "Add note" : `Send ${channelLabel(channel)}`}
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
