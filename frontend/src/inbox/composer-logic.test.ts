import { describe, expect, it } from "vitest";
import { contact, conv, msg } from "../test/fixtures";
import { collidingReplies, defaultChannel, defaultSubject, optOutReason, replyChannels } from "./composer-logic";

const both = contact(101, {
  identities: [
    { id: 1, kind: "phone", value: "+1555", opted_out: false },
    { id: 2, kind: "email", value: "a@b.c", opted_out: false },
  ],
});

describe("composer logic", () => {
  it("offers channels from identities and defaults to the last inbound channel", () => {
    const opts = replyChannels(both, conv(1));
    expect(opts).toEqual(["sms", "email"]);
    const tl = [msg(1, { channel: "sms" }), msg(2, { channel: "email", subject: "Invoice" }), msg(3, { direction: "out", channel: "sms" })];
    expect(defaultChannel(opts, tl, conv(1))).toBe("email");
    expect(defaultSubject(tl)).toBe("Re: Invoice");
  });

  it("explains opt-outs", () => {
    const c = contact(101, { identities: [{ id: 1, kind: "phone", value: "+1555", opted_out: true }] });
    expect(optOutReason(c, "sms")).toMatch(/opted out of SMS/);
    expect(optOutReason(both, "sms")).toBeNull();
  });

  it("detects replies by other agents since typing started", () => {
    const tl = [msg(1), msg(2, { direction: "out", sender: { type: "agent", id: 2, name: "Bo" } }), msg(3, { direction: "out", sender: { type: "agent", id: 1, name: "Ana" } })];
    expect(collidingReplies(tl, 1, 1, new Set([1])).map((m) => m.id)).toEqual([2]);
    expect(collidingReplies(tl, 1, 1, new Set([1, 2]))).toEqual([]);
  });
});
