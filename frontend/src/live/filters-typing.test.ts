import { describe, expect, it } from "vitest";
import type { ConversationFilter, TypingFrame } from "../api/types";
import { applyEvent, applyTyping, customerTypingFor, matchesFilter, TYPING_TTL_MS } from "./reducer";
import { initialState, type InboxState } from "./state";
import { conv, convEvent, me, messageEvent, msg } from "../test/fixtures";

const all = (over: Partial<ConversationFilter>): ConversationFilter => ({ view: "all", ...over });

describe("matchesFilter: inbox / label / assignee / priority", () => {
  it("filters by inbox id (number or numeric string)", () => {
    expect(matchesFilter(conv(1), all({ inbox: 5 }), me)).toBe(true);
    expect(matchesFilter(conv(1), all({ inbox: 6 }), me)).toBe(false);
    expect(matchesFilter(conv(1), all({ inbox: "5" as unknown as number }), me)).toBe(true);
    expect(matchesFilter(conv(1), all({ inbox: "" }), me)).toBe(true);
  });

  it("filters by label name", () => {
    expect(matchesFilter(conv(1, { labels: ["vip", "billing"] }), all({ label: "billing" }), me)).toBe(true);
    expect(matchesFilter(conv(1, { labels: ["vip"] }), all({ label: "billing" }), me)).toBe(false);
    expect(matchesFilter(conv(1, { labels: [] }), all({ label: "" }), me)).toBe(true);
  });

  it("filters by assignee id, and 'none' means unassigned", () => {
    expect(matchesFilter(conv(1), all({ assignee: 1 }), me)).toBe(true);
    expect(matchesFilter(conv(1), all({ assignee: 2 }), me)).toBe(false);
    expect(matchesFilter(conv(1, { assignee: null }), all({ assignee: 2 }), me)).toBe(false);
    expect(matchesFilter(conv(1, { assignee: null }), all({ assignee: "none" }), me)).toBe(true);
    expect(matchesFilter(conv(1), all({ assignee: "none" }), me)).toBe(false);
    expect(matchesFilter(conv(1, { assignee: null }), all({ assignee: "" }), me)).toBe(true);
  });

  it("filters by priority, including 'none'", () => {
    expect(matchesFilter(conv(1, { priority: "urgent" }), all({ priority: "urgent" }), me)).toBe(true);
    expect(matchesFilter(conv(1, { priority: "high" }), all({ priority: "urgent" }), me)).toBe(false);
    expect(matchesFilter(conv(1), all({ priority: "none" }), me)).toBe(true);
    expect(matchesFilter(conv(1, { priority: "low" }), all({ priority: "" }), me)).toBe(true);
  });

  it("combines the new filters with each other and with view/status", () => {
    const c = conv(1, { labels: ["vip"], priority: "high", inbox: { id: 7, name: "Web", channel: "google_business" } });
    const f = all({ status: "open", inbox: 7, label: "vip", assignee: 1, priority: "high" });
    expect(matchesFilter(c, f, me)).toBe(true);
    expect(matchesFilter(c, { ...f, view: "unassigned" }, me)).toBe(false);
    expect(matchesFilter({ ...c, status: "resolved" }, f, me)).toBe(false);
    expect(matchesFilter({ ...c, labels: [] }, f, me)).toBe(false);
  });
});

describe("live events honour the new filters", () => {
  function listState(filter: ConversationFilter): InboxState {
    const s = initialState(me);
    return { ...s, list: { ...s.list, filter, items: [conv(2, { priority: "urgent" })], loaded: true } };
  }

  it("adds a conversation that starts matching and drops one that stops matching", () => {
    let s = listState(all({ priority: "urgent" }));
    s = applyEvent(s, convEvent(10, conv(3, { priority: "urgent", last_message_at: "2024-05-01T12:00:00Z" })));
    expect(s.list.items.map((c) => c.id)).toEqual([3, 2]);
    s = applyEvent(s, convEvent(11, conv(2, { priority: "low" })));
    expect(s.list.items.map((c) => c.id)).toEqual([3]);
    s = applyEvent(s, convEvent(12, conv(4, { priority: "low" })));
    expect(s.list.items.map((c) => c.id)).toEqual([3]);
  });

  it("assignee=none keeps only unassigned conversations", () => {
    let s = listState(all({ assignee: "none" }));
    s = { ...s, list: { ...s.list, items: [conv(2, { assignee: null })] } };
    s = applyEvent(s, convEvent(20, conv(2))); // assigned to Ana now
    expect(s.list.items).toEqual([]);
    s = applyEvent(s, convEvent(21, conv(5, { assignee: null })));
    expect(s.list.items.map((c) => c.id)).toEqual([5]);
  });

  it("label and inbox changes move conversations in and out", () => {
    let s = listState(all({ label: "vip", inbox: 5 }));
    s = { ...s, list: { ...s.list, items: [] } };
    s = applyEvent(s, convEvent(30, conv(6, { labels: ["vip"] })));
    expect(s.list.items.map((c) => c.id)).toEqual([6]);
    s = applyEvent(s, convEvent(31, conv(6, { labels: ["vip"], inbox: { id: 9, name: "Email", channel: "email" } })));
    expect(s.list.items).toEqual([]);
  });
});

describe("customer typing", () => {
  const frame = (conversation: number, state = "typing"): TypingFrame => ({
    type: "typing",
    data: { conversation, contact: 101, state },
  });

  it("shows for ~6 s after the last typing frame", () => {
    let s = applyTyping(initialState(me), frame(1), 1000);
    expect(customerTypingFor(s.typing, 1, 1000)).toBe(TYPING_TTL_MS);
    expect(customerTypingFor(s.typing, 1, 1000 + TYPING_TTL_MS - 1)).toBeGreaterThan(0);
    expect(customerTypingFor(s.typing, 1, 1000 + TYPING_TTL_MS)).toBe(0);
    expect(customerTypingFor(s.typing, 2, 1000)).toBe(0);
    // A new frame extends it.
    s = applyTyping(s, frame(1), 5000);
    expect(customerTypingFor(s.typing, 1, 1000 + TYPING_TTL_MS)).toBeGreaterThan(0);
    expect(customerTypingFor(s.typing, 1, 5000 + TYPING_TTL_MS)).toBe(0);
  });

  it("accepts the contact as an object and clears on a non-typing state", () => {
    let s = applyTyping(initialState(me), { type: "typing", data: { conversation: 3, contact: { id: 5, name: "Alice" }, state: "typing" } }, 0);
    expect(customerTypingFor(s.typing, 3, 10)).toBeGreaterThan(0);
    s = applyTyping(s, frame(3, "idle"), 20);
    expect(customerTypingFor(s.typing, 3, 20)).toBe(0);
  });

  it("ignores malformed frames", () => {
    const s = initialState(me);
    expect(applyTyping(s, { type: "typing" } as unknown as TypingFrame, 0)).toBe(s);
  });

  it("stops when the customer's message arrives, not on an agent reply", () => {
    let s = applyTyping(initialState(me), frame(1), 1000);
    s = applyEvent(s, messageEvent(40, msg(7, { direction: "out", kind: "message", sender: null }), conv(1)));
    expect(customerTypingFor(s.typing, 1, 1001)).toBeGreaterThan(0);
    s = applyEvent(s, messageEvent(41, msg(8), conv(1)));
    expect(customerTypingFor(s.typing, 1, 1001)).toBe(0);
  });
});
