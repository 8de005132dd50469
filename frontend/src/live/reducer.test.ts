import { describe, expect, it } from "vitest";
import { activePresence, applyEvent, applyEvents, applyPresence, matchesFilter, setBaseline, upsertMessage } from "./reducer";
import { initialState, type InboxState } from "./state";
import { contact, conv, convEvent, me, messageEvent, msg } from "../test/fixtures";

function stateWith(over: Partial<InboxState> = {}): InboxState {
  const s = initialState(me);
  return {
    ...s,
    list: { ...s.list, filter: { view: "all", status: "open" }, items: [conv(3), conv(2), conv(1)], loaded: true },
    currentId: 1,
    current: conv(1),
    timeline: { contactId: 101, messages: [msg(1), msg(2, { direction: "out", status: "sent", sender: { type: "agent", id: 1, name: "Ana" } })], older: null, loading: false, loaded: true, stale: false },
    ...over,
  };
}

describe("applyEvent", () => {
  it("appends a new message to the open timeline", () => {
    const s = stateWith();
    const m = msg(3, { text: "hi again" });
    const next = applyEvent(s, messageEvent(50, m, conv(1, { last_message_at: "2024-05-01T12:00:00Z" })));
    expect(next.timeline.messages.map((x) => x.id)).toEqual([1, 2, 3]);
    expect(next.timeline.messages[2]!.text).toBe("hi again");
    expect(next.lastEventId).toBe(50);
  });

  it("ignores messages for other contacts' timelines", () => {
    const s = stateWith();
    const next = applyEvent(s, messageEvent(51, msg(9, { contact: 999, conversation: 9 }), conv(9)));
    expect(next.timeline.messages).toHaveLength(2);
  });

  it("updates the delivery status in place", () => {
    const s = stateWith();
    const updated = msg(2, { direction: "out", status: "delivered", sender: { type: "agent", id: 1, name: "Ana" } });
    const next = applyEvent(s, messageEvent(52, updated, conv(1), "message.updated"));
    expect(next.timeline.messages.map((x) => x.id)).toEqual([1, 2]);
    expect(next.timeline.messages[1]!.status).toBe("delivered");
    const failed = applyEvent(next, messageEvent(53, { ...updated, status: "failed", error_message: "Carrier rejected" }, conv(1), "message.updated"));
    expect(failed.timeline.messages[1]!.status).toBe("failed");
    expect(failed.timeline.messages[1]!.error_message).toBe("Carrier rejected");
    expect(failed.timeline.messages).toHaveLength(2);
  });

  it("dedupes events by id", () => {
    const s = stateWith();
    const ev = messageEvent(60, msg(3), conv(1, { last_message_at: "2024-05-01T12:00:00Z" }));
    const once = applyEvent(s, ev);
    const twice = applyEvent(once, ev);
    expect(twice).toBe(once);
    expect(twice.timeline.messages.filter((m) => m.id === 3)).toHaveLength(1);
  });

  it("ignores events at or below the baseline", () => {
    const s = setBaseline(stateWith(), 100);
    expect(s.lastEventId).toBe(100);
    const next = applyEvent(s, messageEvent(99, msg(3), conv(1)));
    expect(next).toBe(s);
  });

  it("still applies an out-of-order event that was never seen", () => {
    let s = stateWith();
    s = applyEvent(s, convEvent(70, conv(2, { priority: "high" })));
    s = applyEvent(s, convEvent(69, conv(3, { priority: "urgent" })));
    expect(s.list.items.find((c) => c.id === 3)!.priority).toBe("urgent");
    expect(s.lastEventId).toBe(70);
  });

  it("moves an updated conversation to the top", () => {
    const s = stateWith();
    const next = applyEvent(s, messageEvent(80, msg(3), conv(1, { last_message_at: "2024-05-02T00:00:00Z", unread_count: 1 })));
    expect(next.list.items.map((c) => c.id)).toEqual([1, 3, 2]);
    expect(next.current!.unread_count).toBe(1);
  });

  it("counts unread inbound messages itself (event payloads always say 0)", () => {
    let s = stateWith();
    const later = (n: number) => ({ last_message_at: `2024-05-02T00:0${n}:00Z`, unread_count: 0 });
    s = applyEvent(s, messageEvent(81, msg(10, { conversation: 2 }), conv(2, later(1))));
    s = applyEvent(s, messageEvent(82, msg(11, { conversation: 2 }), conv(2, later(2))));
    expect(s.list.items.find((c) => c.id === 2)!.unread_count).toBe(2);
    // Replies, notes and plain conversation updates keep the count; a replayed event does not add to it.
    s = applyEvent(s, messageEvent(83, msg(12, { conversation: 2, direction: "out" }), conv(2, later(3))));
    s = applyEvent(s, convEvent(84, conv(2, { ...later(3), priority: "high" })));
    s = applyEvent(s, messageEvent(82, msg(11, { conversation: 2 }), conv(2, later(2))));
    expect(s.list.items.find((c) => c.id === 2)!).toMatchObject({ unread_count: 2, priority: "high" });
    // A status tick on an inbound message is not a new message.
    s = applyEvent(s, messageEvent(85, msg(11, { conversation: 2 }), conv(2, later(3)), "message.updated"));
    expect(s.list.items.find((c) => c.id === 2)!.unread_count).toBe(2);
  });

  it("inserts new conversations that match the view and skips the rest", () => {
    const s = stateWith({ list: { ...stateWith().list, filter: { view: "mine", status: "open" } } });
    const mine = applyEvent(s, convEvent(90, conv(7, { last_message_at: "2024-05-03T00:00:00Z" }), "conversation.created"));
    expect(mine.list.items[0]!.id).toBe(7);
    const notMine = applyEvent(mine, convEvent(91, conv(8, { assignee: { id: 2, name: "Bo" }, last_message_at: "2024-05-03T00:00:00Z" }), "conversation.created"));
    expect(notMine.list.items.map((c) => c.id)).not.toContain(8);
  });

  it("removes a conversation that no longer matches (e.g. resolved in the Open filter)", () => {
    const s = stateWith();
    const next = applyEvent(s, convEvent(95, conv(2, { status: "resolved" })));
    expect(next.list.items.map((c) => c.id)).toEqual([3, 1]);
  });

  it("marks the timeline stale when the shown contact is merged", () => {
    const s = stateWith();
    const merged = contact(500, { merged_from: [{ merge_id: 1, contact_id: 101, name: "Contact 1" }] });
    const next = applyEvent(s, { id: 96, type: "contact.merged", at: "", data: { contact: merged } });
    expect(next.timeline.stale).toBe(true);
    expect(next.timeline.contactId).toBe(500);
    expect(next.list.items.find((c) => c.id === 1)!.contact.id).toBe(500);
  });

  it("applyEvents applies in id order", () => {
    const s = stateWith();
    const a = messageEvent(101, msg(2, { direction: "out", status: "delivered" }), conv(1), "message.updated");
    const b = messageEvent(100, msg(2, { direction: "out", status: "sent" }), conv(1), "message.updated");
    const next = applyEvents(s, [a, b]);
    expect(next.timeline.messages[1]!.status).toBe("delivered");
  });
});

describe("matchesFilter", () => {
  it("handles views", () => {
    expect(matchesFilter(conv(1, { assignee: null }), { view: "unassigned" }, me)).toBe(true);
    expect(matchesFilter(conv(1), { view: "unassigned" }, me)).toBe(false);
    expect(matchesFilter(conv(1, { team: { id: 11, name: "x" } }), { view: "team" }, me)).toBe(false);
    expect(matchesFilter(conv(1), { view: "team", channel: "email" }, me)).toBe(false);
  });
});

describe("upsertMessage", () => {
  it("never moves a delivery status backwards (live frames can arrive out of id order)", () => {
    const sent = msg(7, { direction: "out", status: "sent", provider_status: "sent", external_id: "X1" });
    const staleQueued = msg(7, { direction: "out", status: "queued", provider_status: "", external_id: "" });
    const [kept] = upsertMessage([sent], staleQueued);
    expect(kept).toMatchObject({ status: "sent", provider_status: "sent", external_id: "X1" });
    const [delivered] = upsertMessage([sent], msg(7, { direction: "out", status: "delivered" }));
    expect(delivered!.status).toBe("delivered");
    const [failed] = upsertMessage([msg(7, { status: "failed", error_message: "Unreachable" })], msg(7, { status: "delivered" }));
    expect(failed).toMatchObject({ status: "failed", error_message: "Unreachable" });
  });


  it("inserts older messages in chronological position", () => {
    const list = [msg(1), msg(5)];
    expect(upsertMessage(list, msg(3)).map((m) => m.id)).toEqual([1, 3, 5]);
  });
});

describe("presence", () => {
  it("tracks other users and drops idle and self", () => {
    let s = stateWith();
    s = applyPresence(s, { type: "presence", data: { conversation: 1, user: { id: 2, name: "Bo" }, state: "replying" } }, 1000);
    s = applyPresence(s, { type: "presence", data: { conversation: 1, user: { id: 1, name: "Ana" }, state: "viewing" } }, 1000);
    expect(activePresence(s.presence, 1, 2000)).toEqual([{ id: 2, name: "Bo", state: "replying", at: 1000 }]);
    expect(activePresence(s.presence, 1, 1000 + 10 * 60_000)).toEqual([]);
    s = applyPresence(s, { type: "presence", data: { conversation: 1, user: { id: 2, name: "Bo" }, state: "idle" } }, 3000);
    expect(activePresence(s.presence, 1, 3000)).toEqual([]);
  });
});
