import { Highlighted } from "../search/highlight";
import { memo, useMemo, useState } from "react";
import type { Attachment, Message } from "../api/types";
import { channelLabel, clockTime, duration, fileSize, fullTime } from "../ui/format";
import { ChannelIcon, Icon, type IconName } from "../ui/icons";
import { emailFrameHeight, emailSrcDoc, hasRemoteImages, loadRemoteImages } from "./email-html";
import { messageMentions, splitMentions } from "./mentions";

const TICKS: Record<string, { icon: IconName; label: string }> = {
  queued: { icon: "clock", label: "Queued" },
  unconfirmed: { icon: "clock", label: "Unconfirmed" },
  sent: { icon: "check", label: "Sent" },
  delivered: { icon: "checks", label: "Delivered" },
  read: { icon: "checks", label: "Read" },
  failed: { icon: "warning", label: "Failed" },
};

export function StatusTicks({ m }: { m: Message }) {
  if (m.direction !== "out" || m.kind === "note" || m.kind === "activity") return null;
  const t = TICKS[m.status];
  if (!t) return null;
  return (
    <span
      className={`ticks ticks-${m.status}`}
      title={m.status === "failed" ? `Failed: ${m.error_message || m.error_code || "unknown error"}` : `${t.label}${m.provider_status ? ` (${m.provider_status})` : ""}${m.error_message ? `: ${m.error_message}` : ""}`}
      role="img"
      aria-label={t.label}
      data-testid="delivery-status"
    >
      <Icon name={t.icon} size={14} />
    </span>
  );
}

function Attachments({ items }: { items: Attachment[] }) {
  if (!items?.length) return null;
  return (
    <ul className="attachments" aria-label="Attachments">
      {items.map((a) => (
        <li key={a.id} className={`attachment att-${a.status}`} data-testid="attachment">
          {a.status === "ready" && a.content_type.startsWith("image/") ? (
            <a href={a.url} target="_blank" rel="noreferrer noopener">
              <img src={a.url} alt={a.filename} loading="lazy" />
            </a>
          ) : a.status === "ready" ? (
            <a href={a.url} target="_blank" rel="noreferrer noopener" download={a.filename}>
              <Icon name="paperclip" size={14} /> {a.filename} <span className="muted">({fileSize(a.size)})</span>
            </a>
          ) : (
            <span>
              <Icon name="paperclip" size={14} /> {a.filename} <span className="muted">{a.status === "pending" ? "(processing…)" : "(failed to download)"}</span>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Messages whose remote images the agent loaded (survives the virtualized row unmounting). */
const remoteImagesLoaded = new Set<number>();

function EmailBody({ m }: { m: Message }) {
  const [remote, setRemote] = useState(() => remoteImagesLoaded.has(m.id));
  const blockedImages = useMemo(() => hasRemoteImages(m.html), [m.html]);
  const srcDoc = useMemo(
    () => (m.html ? emailSrcDoc(m.html, m.metadata?.cid_map, m.attachments, remote) : ""),
    [m.html, m.metadata?.cid_map, m.attachments, remote],
  );
  const quoted = typeof m.metadata?.quoted_text === "string" ? m.metadata.quoted_text : "";
  const cc = Array.isArray(m.metadata?.cc) ? m.metadata.cc.map((c) => (c.name ? `${c.name} <${c.email}>` : c.email)) : [];
  // The server keeps every inbound email as it arrived (webhook or IMAP).
  const hasOriginal = m.direction === "in" && typeof m.metadata?.raw_event_id === "number";
  return (
    <div className="email">
      {(m.subject || hasOriginal) && (
        <div className="email-head">
          <div className="email-subject" data-testid="email-subject">
            {m.subject}
          </div>
          {hasOriginal && (
            <a
              className="email-original small"
              href={`/api/v1/messages/${m.id}/original/`}
              target="_blank"
              rel="noopener noreferrer"
              title="The message exactly as it arrived: headers and MIME source"
              data-testid="view-original"
            >
              View original
            </a>
          )}
        </div>
      )}
      {cc.length > 0 && <div className="muted small">Cc: {cc.join(", ")}</div>}
      {m.html && blockedImages && !remote && (
        <div className="remote-images muted small">
          Remote images are blocked.{" "}
          <button
            type="button"
            className="link"
            onClick={() => {
              remoteImagesLoaded.add(m.id);
              setRemote(true);
            }}
            data-testid="load-remote-images"
          >
            Load remote images
          </button>
        </div>
      )}
      {m.html ? (
        <iframe
          className="email-html"
          sandbox=""
          srcDoc={srcDoc}
          style={{ height: emailFrameHeight(m.text, remote ? loadRemoteImages(m.html) : m.html) }}
          title={`Email: ${m.subject || "message"}`}
          referrerPolicy="no-referrer"
          data-testid="email-html"
        />
      ) : (
        <div className="text">{m.text}</div>
      )}
      {quoted && (
        <details className="quoted">
          <summary>Show quoted text</summary>
          <pre>{quoted}</pre>
        </details>
      )}
    </div>
  );
}

/** What became of a call, in words: the server's summary ("Missed call", "Answered call", ...) is the
 * message text of an inbound call, so it heads the card rather than repeating under it. */
function callHeadline(m: Message): string {
  if (m.kind === "voicemail") return "Voicemail";
  if (m.direction !== "in") return "Outgoing call";
  return m.text || "Incoming call";
}

function CallBody({ m }: { m: Message }) {
  const md = m.metadata ?? {};
  const isVm = m.kind === "voicemail";
  const headline = callHeadline(m);
  return (
    <div className="call">
      <div className="call-line">
        <Icon name={isVm ? "voicemail" : "phone"} /> <strong data-testid="call-headline">{headline}</strong>
        {/* Twilio's own status ("no-answer", "busy") says why; a voicemail needs no why. */}
        {md.call_status && !isVm && <span className="muted"> · {String(md.call_status)}</span>}
        {md.duration !== undefined && <span className="muted"> · {duration(Number(md.duration))}</span>}
      </div>
      {typeof md.recording_url === "string" && md.recording_url && (
        <audio controls preload="none" src={md.recording_url} aria-label={isVm ? "Voicemail recording" : "Call recording"} />
      )}
      {typeof md.transcript === "string" && md.transcript && (
        <details className="transcript" open={isVm}>
          <summary>Transcript</summary>
          <p>{md.transcript}</p>
        </details>
      )}
      {m.text && m.text !== headline && <div className="text">{m.text}</div>}
    </div>
  );
}

function NoteText({ m, meId }: { m: Message; meId?: number }) {
  const mentions = messageMentions(m.metadata);
  if (!mentions.length) return <div className="text">{m.text}</div>;
  return (
    <div className="text">
      {splitMentions(m.text, mentions).map((s, i) =>
        "mention" in s ? (
          <mark
            key={i}
            className={`mention${s.mention.id === meId ? " mention-me" : ""}`}
            data-testid="mention"
            data-user-id={s.mention.id}
          >
            {s.text}
          </mark>
        ) : (
          <span key={i}>{s.text}</span>
        ),
      )}
      {/* A mention whose name is not in the text (edited away) is still listed. */}
      {mentions
        .filter((x) => !m.text.includes(`@${x.name}`))
        .map((x) => (
          <mark key={`extra-${x.id}`} className="mention" data-testid="mention" data-user-id={x.id}>
            {" "}@{x.name}
          </mark>
        ))}
    </div>
  );
}

export const TimelineItem = memo(function TimelineItem({
  m,
  currentConversationId,
  meId,
  highlight,
}: {
  m: Message;
  currentConversationId: number;
  meId?: number;
  /** Opened from a search result: this message is the match, with these words marked. */
  highlight?: string[];
}) {
  const common = {
    "data-testid": "timeline-item",
    "data-message-id": m.id,
    "data-status": m.status,
    "data-kind": m.kind,
    "data-channel": m.channel,
    "data-direction": m.direction,
    "data-conversation-id": m.conversation,
  };
  const other = m.conversation !== currentConversationId;

  if (m.kind === "activity") {
    return (
      <div className="item activity" {...common}>
        <span>{m.text}</span> <time dateTime={m.created_at} title={fullTime(m.created_at)}>{clockTime(m.created_at)}</time>
      </div>
    );
  }

  const who = m.sender?.name ?? (m.direction === "in" ? "Contact" : "Heron");
  return (
    <div className={`item ${m.kind === "note" ? "note" : m.direction === "in" ? "in" : "out"}${other ? " other-conv" : ""}${highlight ? " search-hit" : ""}`}
         data-search-hit={highlight ? "true" : undefined} {...common}>
      <div className="bubble">
        <div className="item-head">
          <span className={`chan chan-${m.channel}`} title={channelLabel(m.channel)} data-testid="channel-badge">
            <ChannelIcon channel={m.channel} size={12} /> {channelLabel(m.channel)}
          </span>
          <span className="who">{m.kind === "note" ? `Note · ${who}` : m.kind === "campaign" ? `Campaign · ${who}` : who}</span>
          {other && <span className="muted small">conv #{m.conversation}</span>}
        </div>
        {m.kind === "call" || m.kind === "voicemail" ? (
          <CallBody m={m} />
        ) : m.channel === "email" && m.kind !== "note" ? (
          <EmailBody m={m} />
        ) : m.kind === "note" ? (
          <NoteText m={m} meId={meId} />
        ) : (
          <div className="text"><Highlighted text={m.text} words={highlight ?? []} /></div>
        )}
        <Attachments items={m.attachments} />
        <div className="item-foot">
          <time dateTime={m.created_at} title={fullTime(m.created_at)}>
            {clockTime(m.created_at)}
          </time>
          <StatusTicks m={m} />
        </div>
        {m.status === "failed" && m.direction === "out" && (
          <div className="error-line" role="note" data-testid="message-error">
            <Icon name="warning" size={14} /> Not delivered: {m.error_message || m.error_code || "unknown error"}
          </div>
        )}
        {m.status !== "failed" && m.direction === "out" && m.kind === "message" && m.error_message && (
          // What the send is going through: a retry, an answer Heron is checking with the provider.
          <div className="delivery-note" role="status" data-testid="message-delivery-note">
            <Icon name="clock" size={14} /> {m.error_message}
          </div>
        )}
      </div>
    </div>
  );
});
