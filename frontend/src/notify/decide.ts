/** Which live events deserve a browser notification: pure, so it is unit-tested. */
import type { ID, LiveEvent } from "../api/types";
import { messageMentions } from "../inbox/mentions";

export interface NotifyContext {
  meId: ID;
  /** The conversation open on screen, if any. */
  openConversationId: ID | null;
  /** document.visibilityState === "hidden" (another tab, minimized window). */
  hidden: boolean;
  /** Now, in ms; events older than `maxAgeMs` (a long catch-up after being offline) are not announced. */
  now: number;
  maxAgeMs?: number;
}

export interface NotificationSpec {
  title: string;
  body: string;
  conversationId: ID;
  /** Notifications with the same tag replace each other (one per conversation). */
  tag: string;
  reason: "assigned" | "mention";
}

const CUSTOMER_KINDS = new Set(["message", "voicemail", "call"]);
const DEFAULT_MAX_AGE = 10 * 60_000;

function snippet(text: string, max = 140): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function notificationFor(event: LiveEvent, ctx: NotifyContext): NotificationSpec | null {
  if (event.type !== "message.created") return null;
  const { message: m, conversation: c } = event.data;
  if (!m || !c) return null;
  const at = Date.parse(event.at || m.created_at);
  if (!Number.isNaN(at) && ctx.now - at > (ctx.maxAgeMs ?? DEFAULT_MAX_AGE)) return null;
  // Only when the user is not already looking at it.
  if (!ctx.hidden && ctx.openConversationId === c.id) return null;

  const contactName = c.contact?.name || "A customer";
  if (m.direction === "in" && CUSTOMER_KINDS.has(m.kind) && c.assignee?.id === ctx.meId) {
    const what = m.kind === "voicemail" ? "Voicemail" : m.kind === "call" ? "Call" : "New message";
    const body = m.kind === "message" ? m.subject || m.text : (m.metadata?.transcript as string | undefined) || m.text;
    return {
      title: `${what} from ${contactName}`,
      body: snippet(body || (m.attachments?.length ? `${m.attachments.length} attachment(s)` : "")),
      conversationId: c.id,
      tag: `heron-conversation-${c.id}`,
      reason: "assigned",
    };
  }
  if (m.kind === "note" && !(m.sender?.type === "agent" && m.sender.id === ctx.meId) && messageMentions(m.metadata).some((x) => x.id === ctx.meId)) {
    return {
      title: `${m.sender?.name ?? "A colleague"} mentioned you`,
      body: snippet(`${contactName}: ${m.text}`),
      conversationId: c.id,
      tag: `heron-mention-${m.id}`,
      reason: "mention",
    };
  }
  return null;
}
