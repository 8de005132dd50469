import { describe, expect, it } from "vitest";
import type { LiveEvent, ReplyOptions } from "../api/types";
import { contact, conv, msg } from "../test/fixtures";
import {
  ccAddresses,
  collidingReplies,
  defaultSubject,
  formatRecipient,
  replyOption,
  replyOptionsStale,
  replyTarget,
  selectedChannel,
  unavailableReason,
} from "./composer-logic";

const GOOGLE_CLOSED =
  "The google business reply window is closed: replies are only allowed within 30 days of the customer's last message.";
const server: ReplyOptions = {
  default: "sms",
  options: [
    { channel: "sms", available: true, reason: "", to: "+15558675310", inbox: 3 },
    { channel: "google_business", available: false, reason: GOOGLE_CLOSED, to: "", inbox: null },
    { channel: "email", available: true, reason: "", to: "a@b.c", inbox: 4 },
  ],
};

describe("composer logic", () => {
  it("answers an email with the subject of this conversation's last email", () => {
    const here = { id: 1, subject: "" };
    const tl = [msg(1, { channel: "sms" }), msg(2, { channel: "email", subject: "Invoice" }), msg(3, { direction: "out", channel: "sms" })];
    expect(defaultSubject(tl, here)).toBe("Re: Invoice");
    expect(defaultSubject([msg(1, { channel: "email", subject: "RE: Invoice" })], here)).toBe("RE: Invoice");
    expect(defaultSubject([msg(1)], here)).toBe("");
  });

  it("never takes another conversation's subject from the contact's timeline", () => {
    const tl = [msg(1, { channel: "email", subject: "Damaged mug in order #2001" }),
      msg(2, { conversation: 8, channel: "email", subject: "New order" })];
    expect(defaultSubject(tl, { id: 1, subject: "Damaged mug in order #2001" })).toBe("Re: Damaged mug in order #2001");
    expect(defaultSubject(tl.slice(1), { id: 1, subject: "Damaged mug" })).toBe("Re: Damaged mug");
  });

  it("reads a pasted Cc list however it is separated", () => {
    expect(ccAddresses(" a@x.org, b@y.org;c@z.org  d@w.org ,")).toEqual(["a@x.org", "b@y.org", "c@z.org", "d@w.org"]);
    expect(ccAddresses("  ")).toEqual([]);
  });

  it("detects replies by other agents since typing started", () => {
    const tl = [msg(1), msg(2, { direction: "out", sender: { type: "agent", id: 2, name: "Bo" } }), msg(3, { direction: "out", sender: { type: "agent", id: 1, name: "Ana" } })];
    expect(collidingReplies(tl, 1, 1, new Set([1])).map((m) => m.id)).toEqual([2]);
    expect(collidingReplies(tl, 1, 1, new Set([1, 2]))).toEqual([]);
  });

  describe("server reply options", () => {
    it("defaults to the server's default and keeps the agent's choice while it is listed", () => {
      expect(selectedChannel(server, null)).toBe("sms");
      expect(selectedChannel(server, "email")).toBe("email");
      // Became unavailable after a refetch: stays selected so the reason shows.
      expect(selectedChannel(server, "google_business")).toBe("google_business");
      // No longer offered at all (e.g. identity removed): back to the default.
      expect(selectedChannel(server, "simulator")).toBe("sms");
    });

    it("falls back to the first available option when the default is not listed", () => {
      const odd: ReplyOptions = { default: "voice", options: server.options.slice(1) };
      expect(selectedChannel(odd, null)).toBe("email");
      expect(selectedChannel({ default: "sms", options: [] }, null)).toBe("sms");
    });

    it("explains unavailable channels with the server's reason", () => {
      expect(unavailableReason(server, "sms")).toBeNull();
      expect(unavailableReason(server, "google_business")).toBe(GOOGLE_CLOSED);
      const noReason: ReplyOptions = { default: "sms", options: [{ channel: "sms", available: false, reason: "", to: "", inbox: null }] };
      expect(unavailableReason(noReason, "sms")).toMatch(/can't be sent by sms/);
      expect(unavailableReason(server, "simulator")).toMatch(/can't be sent/);
    });

    it("knows no channel until the server answers, and says so when it cannot be asked", () => {
      expect(replyTarget(null, null, "email")).toEqual({ channel: null, to: "", blocked: null });
      expect(replyTarget(null, "Heron could not reach the server.", null)).toEqual({
        channel: null,
        to: "",
        blocked: "Could not load where this reply can go. Heron could not reach the server.",
      });
      expect(replyTarget(server, null, null)).toEqual({ channel: "sms", to: "+15558675310", blocked: null });
      expect(replyTarget(server, "a later failure", "google_business")).toEqual({ channel: "google_business", to: "", blocked: GOOGLE_CLOSED });
    });

    it("gives the recipient and formats North American numbers", () => {
      expect(replyOption(server, "sms")?.to).toBe("+15558675310");
      expect(replyOption(server, "voice")).toBeNull();
      expect(formatRecipient("+15558675310")).toBe("+1 555 867 5310");
      expect(formatRecipient("+447700900123")).toBe("+447700900123");
      expect(formatRecipient("a@b.c")).toBe("a@b.c");
    });

    it("refetches after contact changes and customer messages, not after our own replies", () => {
      const c = conv(1); // contact 101
      const ev = (e: Omit<LiveEvent, "id" | "at">) => ({ id: 1, at: "2024-05-01T12:00:00Z", ...e }) as LiveEvent;
      const updated = ev({ type: "contact.updated", data: { contact: contact(101) } });
      const other = ev({ type: "contact.updated", data: { contact: contact(102) } });
      const mergedInto = ev({
        type: "contact.merged",
        data: { contact: contact(300, { merged_from: [{ merge_id: 9, contact_id: 101, name: "Old" }] }) },
      });
      const inbound = ev({ type: "message.created", data: { message: msg(5), conversation: c } });
      const inboundElsewhere = ev({ type: "message.created", data: { message: msg(6, { conversation: 7 }), conversation: conv(7) } });
      const reply = ev({ type: "message.created", data: { message: msg(7, { direction: "out" }), conversation: c } });
      const note = ev({ type: "message.created", data: { message: msg(8, { kind: "note" }), conversation: c } });
      const updatedMsg = ev({ type: "message.updated", data: { message: msg(5), conversation: c } });

      expect(replyOptionsStale([updated], 1, 101)).toBe(true);
      expect(replyOptionsStale([other], 1, 101)).toBe(false);
      expect(replyOptionsStale([mergedInto], 1, 101)).toBe(true);
      expect(replyOptionsStale([inbound], 1, 101)).toBe(true);
      expect(replyOptionsStale([inboundElsewhere], 1, 101)).toBe(true); // same customer, other conversation
      expect(replyOptionsStale([inboundElsewhere], 1, 555)).toBe(false);
      expect(replyOptionsStale([reply, note, updatedMsg], 1, 101)).toBe(false);
      expect(replyOptionsStale([reply, updated], 1, 101)).toBe(true);
    });
  });
});
