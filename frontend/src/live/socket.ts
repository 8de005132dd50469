/**
 * The live connection: one WebSocket to /ws/inbox/ with
 *  - reconnect with exponential backoff (+ jitter),
 *  - catch-up through GET /api/v1/events/?after=<lastEventId> on every (re)connect,
 *  - buffering of live frames while catching up so everything is applied in id order,
 *  - dedupe by event id (done by the reducer, see applyEvent).
 */
import type { ID, LiveEvent, PresenceFrame, PresenceState, ServerFrame, TypingFrame } from "../api/types";
import type { ConnectionStatus } from "./state";

export const CATCH_UP_PAGE = 500;

export interface EventSource {
  events(after: number): Promise<{ events: LiveEvent[]; last_id: number }>;
}

/**
 * Fetch everything after `getLastId()` and hand it to `apply` in order; loops while the
 * server returns full pages. `getLastId` is re-read after each page because `apply`
 * advances it.
 */
export async function catchUp(
  source: EventSource,
  getLastId: () => number,
  apply: (events: LiveEvent[]) => void,
  maxPages = 100,
): Promise<number> {
  let total = 0;
  for (let page = 0; page < maxPages; page++) {
    const after = getLastId();
    const res = await source.events(after);
    const events = [...(res.events ?? [])].sort((a, b) => a.id - b.id);
    if (events.length) apply(events);
    total += events.length;
    if (events.length < CATCH_UP_PAGE) break;
    // Protect against a server that ignores `after`.
    if (getLastId() <= after) break;
  }
  return total;
}

export interface LiveClientOptions {
  url: string;
  source: EventSource;
  /** Current highest applied event id, or null when there is no baseline yet. */
  getLastEventId(): number | null;
  setBaseline(lastId: number): void;
  applyEvents(events: LiveEvent[]): void;
  onPresence?(frame: PresenceFrame): void;
  /** Ephemeral customer typing frames (never stored, never replayed by catch-up). */
  onTyping?(frame: TypingFrame): void;
  onStatus?(status: ConnectionStatus): void;
  /** Called when catch-up failed and the app should refetch its data. */
  onResync?(): void;
  WebSocketImpl?: typeof WebSocket;
  minDelayMs?: number;
  maxDelayMs?: number;
}

export class LiveClient {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private catchingUp = false;
  private buffer: LiveEvent[] = [];
  private presence: { conversation: ID; state: PresenceState } | null = null;
  status: ConnectionStatus = "idle";

  constructor(private opts: LiveClientOptions) {}

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    if (typeof window !== "undefined") window.addEventListener("online", this.onOnline);
    this.connect();
  }

  /** Network came back: skip the remaining backoff. */
  private onOnline = () => {
    if (this.stopped || this.ws || !this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    this.connect();
  };

  stop() {
    this.stopped = true;
    if (typeof window !== "undefined") window.removeEventListener("online", this.onOnline);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.onerror = null;
      ws.onopen = null;
      try {
        ws.close();
      } catch {
        /* ignore */
      }
    }
    this.setStatus("idle");
  }

  /** Tell others what we're doing in a conversation; re-sent automatically after reconnect. */
  sendPresence(conversation: ID, state: PresenceState) {
    this.presence = state === "idle" ? null : { conversation, state };
    this.send({ type: "presence", conversation, state });
  }

  /** Re-send our presence for `conversation` (so someone who just arrived learns about us). */
  reannounce(conversation: ID) {
    if (this.presence && this.presence.conversation === conversation) this.send({ type: "presence", ...this.presence });
  }

  private send(obj: unknown) {
    const WS = this.opts.WebSocketImpl ?? WebSocket;
    if (this.ws && this.ws.readyState === WS.OPEN) this.ws.send(JSON.stringify(obj));
  }

  private setStatus(s: ConnectionStatus) {
    if (this.status === s) return;
    this.status = s;
    this.opts.onStatus?.(s);
  }

  private connect() {
    if (this.stopped) return;
    const WS = this.opts.WebSocketImpl ?? WebSocket;
    this.setStatus(this.attempt === 0 && this.status === "idle" ? "connecting" : "reconnecting");
    let ws: WebSocket;
    try {
      ws = new WS(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setStatus("open");
      if (this.presence) this.send({ type: "presence", ...this.presence });
      if (this.opts.getLastEventId() !== null) void this.runCatchUp();
    };
    ws.onmessage = (e: MessageEvent) => this.onFrame(e.data);
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.catchingUp = false;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect() {
    if (this.stopped) return;
    this.setStatus("reconnecting");
    const min = this.opts.minDelayMs ?? 500;
    const max = this.opts.maxDelayMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private onFrame(raw: unknown) {
    let frame: ServerFrame;
    try {
      frame = typeof raw === "string" ? JSON.parse(raw) : (raw as ServerFrame);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "hello") {
      if (this.opts.getLastEventId() === null) {
        this.opts.setBaseline(frame.last_event_id);
        this.flush();
      } else if (!this.catchingUp && frame.last_event_id > (this.opts.getLastEventId() ?? 0)) {
        void this.runCatchUp();
      }
      return;
    }
    if (frame.type === "presence") {
      this.opts.onPresence?.(frame);
      return;
    }
    if (frame.type === "typing") {
      this.opts.onTyping?.(frame);
      return;
    }
    if (typeof (frame as LiveEvent).id !== "number") return;
    if (this.catchingUp || this.opts.getLastEventId() === null) {
      // Hold live frames until catch-up (or the baseline) is done so order is preserved.
      this.buffer.push(frame as LiveEvent);
      if (this.opts.getLastEventId() === null && this.buffer.length > 1000) this.flush();
      return;
    }
    this.opts.applyEvents([frame as LiveEvent]);
  }

  private flush() {
    if (!this.buffer.length) return;
    const events = this.buffer.sort((a, b) => a.id - b.id);
    this.buffer = [];
    this.opts.applyEvents(events);
  }

  /** Visible for tests. */
  async runCatchUp() {
    if (this.catchingUp) return;
    this.catchingUp = true;
    try {
      await catchUp(this.opts.source, () => this.opts.getLastEventId() ?? 0, (evs) => this.opts.applyEvents(evs));
    } catch {
      this.opts.onResync?.();
    } finally {
      this.catchingUp = false;
      this.flush();
    }
  }
}

export function inboxSocketUrl(loc: Location = window.location): string {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws/inbox/`;
}
