import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/client";
import type { LiveEvent } from "../api/types";
import { conv, convEvent, me, messageEvent, msg } from "../test/fixtures";
import { applyEvents, setBaseline } from "./reducer";
import { CATCH_UP_PAGE, LiveClient, catchUp } from "./socket";
import { initialState, type InboxState } from "./state";
import { createStore } from "./store";

class FakeWS {
  static OPEN = 1;
  static instances: FakeWS[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeWS.instances.push(this);
  }
  send(s: string) {
    this.sent.push(s);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  frame(obj: unknown) {
    this.onmessage?.({ data: JSON.stringify(obj) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

function jsonResponse(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
}

function makeState(): InboxState {
  const s = initialState(me);
  return {
    ...s,
    list: { ...s.list, filter: { view: "all" }, items: [conv(1)], loaded: true },
    currentId: 1,
    current: conv(1),
    timeline: { contactId: 101, messages: [msg(1)], older: null, loading: false, loaded: true, stale: false },
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("catchUp", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("fetches events after lastEventId and loops while pages are full", async () => {
    const calls: string[] = [];
    const page1: LiveEvent[] = Array.from({ length: CATCH_UP_PAGE }, (_, i) => convEvent(11 + i, conv(1, { priority: "low" })));
    const page2: LiveEvent[] = [convEvent(11 + CATCH_UP_PAGE, conv(1, { priority: "urgent" }))];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        calls.push(url);
        return jsonResponse(calls.length === 1 ? { events: page1, last_id: 510 } : { events: page2, last_id: 511 });
      }),
    );
    const store = createStore(setBaseline(makeState(), 10));
    const n = await catchUp(api, () => store.get().lastEventId!, (evs) => store.set((s) => applyEvents(s, evs)));
    expect(n).toBe(CATCH_UP_PAGE + 1);
    expect(calls[0]).toBe("/api/v1/events/?after=10");
    expect(calls[1]).toBe(`/api/v1/events/?after=${10 + CATCH_UP_PAGE}`);
    expect(store.get().list.items[0]!.priority).toBe("urgent");
    expect(store.get().lastEventId).toBe(11 + CATCH_UP_PAGE);
  });
});

describe("LiveClient reconnect", () => {
  beforeEach(() => {
    FakeWS.instances = [];
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("catches up after reconnect, applies in order and ignores duplicates", async () => {
    const store = createStore(makeState());
    const statuses: string[] = [];
    const fetchMock = vi.fn(async (url: string) => {
      expect(url).toBe("/api/v1/events/?after=21");
      // Missed while disconnected: a new message (22), its delivery update (23) and 21 again (duplicate).
      return jsonResponse({
        events: [
          messageEvent(23, msg(2, { direction: "out", status: "delivered" }), conv(1), "message.updated"),
          messageEvent(21, msg(99, { created_at: "2024-05-01T11:01:30Z" }), conv(1)),
          messageEvent(22, msg(2, { direction: "out", status: "queued" }), conv(1, { last_message_at: "2024-05-02T00:00:00Z" })),
        ],
        last_id: 23,
      });
    });
    vi.stubGlobal("fetch", fetchMock);

    const client = new LiveClient({
      url: "ws://test/ws/inbox/",
      source: api,
      getLastEventId: () => store.get().lastEventId,
      setBaseline: (id) => store.set((s) => setBaseline(s, id)),
      applyEvents: (evs) => store.set((s) => applyEvents(s, evs)),
      onStatus: (st) => statuses.push(st),
      WebSocketImpl: FakeWS as unknown as typeof WebSocket,
      minDelayMs: 1,
      maxDelayMs: 5,
    });
    client.start();
    const ws1 = FakeWS.instances[0]!;
    ws1.open();
    ws1.frame({ type: "hello", last_event_id: 20 });
    expect(store.get().lastEventId).toBe(20);
    expect(fetchMock).not.toHaveBeenCalled(); // first connect: baseline only

    ws1.frame(messageEvent(21, msg(99, { text: "live", created_at: "2024-05-01T11:01:30Z" }), conv(1)));
    expect(store.get().timeline.messages.map((m) => m.id)).toEqual([1, 99]);

    ws1.drop();
    expect(statuses).toContain("reconnecting");
    await new Promise((r) => setTimeout(r, 20));
    const ws2 = FakeWS.instances[1]!;
    expect(ws2).toBeDefined();
    ws2.open();
    // A live frame arriving during catch-up is buffered and applied after it.
    ws2.frame(messageEvent(24, msg(3, { text: "after" }), conv(1, { last_message_at: "2024-05-03T00:00:00Z" })));
    ws2.frame({ type: "hello", last_event_id: 24 });
    await flush();
    await flush();

    expect(fetchMock).toHaveBeenCalledTimes(1);
    const tl = store.get().timeline.messages;
    expect(tl.map((m) => m.id)).toEqual([1, 99, 2, 3]);
    expect(tl.filter((m) => m.id === 99)).toHaveLength(1);
    expect(tl.find((m) => m.id === 2)!.status).toBe("delivered");
    expect(store.get().lastEventId).toBe(24);
    expect(statuses[statuses.length - 1]).toBe("open");
    client.stop();
  });

  it("re-sends presence after reconnect", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => jsonResponse({ events: [], last_id: 0 })));
    const store = createStore(setBaseline(makeState(), 5));
    const client = new LiveClient({
      url: "ws://x",
      source: api,
      getLastEventId: () => store.get().lastEventId,
      setBaseline: () => undefined,
      applyEvents: (evs) => store.set((s) => applyEvents(s, evs)),
      WebSocketImpl: FakeWS as unknown as typeof WebSocket,
      minDelayMs: 1,
      maxDelayMs: 2,
    });
    client.start();
    FakeWS.instances[0]!.open();
    client.sendPresence(1, "replying");
    expect(JSON.parse(FakeWS.instances[0]!.sent[0]!)).toEqual({ type: "presence", conversation: 1, state: "replying" });
    FakeWS.instances[0]!.drop();
    await new Promise((r) => setTimeout(r, 20));
    FakeWS.instances[1]!.open();
    expect(JSON.parse(FakeWS.instances[1]!.sent[0]!)).toEqual({ type: "presence", conversation: 1, state: "replying" });
    client.stop();
  });
});
