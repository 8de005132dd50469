import { describe, expect, it } from "vitest";
import { conv, convEvent, messageEvent, msg } from "../test/fixtures";
import { notificationFor, type NotifyContext } from "./decide";

const NOW = Date.parse("2024-05-01T11:05:00Z");
const ctx = (over: Partial<NotifyContext> = {}): NotifyContext => ({ meId: 1, openConversationId: null, hidden: false, now: NOW, ...over });
// Fixture conversations are assigned to user 1 ("Ana") unless overridden.
const inbound = (over = {}) => msg(10, { created_at: "2024-05-01T11:04:00Z", text: "Where is my parcel?", ...over });

describe("notificationFor", () => {
  it("announces an inbound message in a conversation assigned to me while another is open", () => {
    const spec = notificationFor(messageEvent(1, inbound(), conv(1)), ctx({ openConversationId: 2 }));
    expect(spec).toMatchObject({ title: "New message from Contact 1", body: "Where is my parcel?", conversationId: 1, reason: "assigned" });
  });

  it("announces it while the tab is hidden even if the conversation is open", () => {
    expect(notificationFor(messageEvent(1, inbound(), conv(1)), ctx({ openConversationId: 1, hidden: true }))).not.toBeNull();
  });

  it("stays quiet when I am looking at that conversation", () => {
    expect(notificationFor(messageEvent(1, inbound(), conv(1)), ctx({ openConversationId: 1 }))).toBeNull();
  });

  it("stays quiet for conversations assigned to someone else or nobody", () => {
    expect(notificationFor(messageEvent(1, inbound(), conv(1, { assignee: { id: 7, name: "Bo" } })), ctx())).toBeNull();
    expect(notificationFor(messageEvent(1, inbound(), conv(1, { assignee: null })), ctx())).toBeNull();
  });

  it("ignores outbound replies, activities, updates and conversation events", () => {
    expect(notificationFor(messageEvent(1, inbound({ direction: "out", status: "queued" }), conv(1)), ctx())).toBeNull();
    expect(notificationFor(messageEvent(1, inbound({ kind: "activity" }), conv(1)), ctx())).toBeNull();
    expect(notificationFor(messageEvent(1, inbound(), conv(1), "message.updated"), ctx())).toBeNull();
    expect(notificationFor(convEvent(1, conv(1)), ctx())).toBeNull();
  });

  it("announces a note that mentions me, from someone else, in any conversation", () => {
    const note = inbound({
      direction: "out",
      kind: "note",
      text: "@Ana can you take this?",
      sender: { type: "agent", id: 7, name: "Bo Berg" },
      metadata: { mentions: [{ id: 1, name: "Ana" }] },
    });
    const c = conv(3, { assignee: { id: 7, name: "Bo Berg" } });
    expect(notificationFor(messageEvent(1, note, c), ctx())).toMatchObject({
      title: "Bo Berg mentioned you",
      conversationId: 3,
      reason: "mention",
    });
    // Not when it mentions someone else, or when I wrote it myself.
    expect(notificationFor(messageEvent(2, { ...note, metadata: { mentions: [{ id: 9, name: "Cy" }] } }, c), ctx())).toBeNull();
    expect(notificationFor(messageEvent(3, { ...note, sender: { type: "agent", id: 1, name: "Ana" } }, c), ctx())).toBeNull();
  });

  it("does not replay old events from a long catch-up", () => {
    const old = messageEvent(1, inbound({ created_at: "2024-05-01T10:00:00Z" }), conv(1));
    expect(notificationFor(old, ctx())).toBeNull();
  });
});
