// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { mergeMessage } from "../live/reducer";
import { msg } from "../test/fixtures";
import { TimelineItem } from "./TimelineItem";

afterEach(cleanup);

const reply = (over: Parameters<typeof msg>[1] = {}) =>
  msg(9, { direction: "out", sender: { type: "agent", id: 1, name: "Ana" }, status: "queued", ...over });

describe("a reply's delivery in the timeline", () => {
  it("shows a retry as it happens, not only once it failed", () => {
    const text = "Retrying (attempt 2 of 6, next in 8 s): SMTP unavailable";
    render(<TimelineItem m={reply({ error_message: text })} currentConversationId={1} />);
    expect(screen.getByTestId("message-delivery-note").textContent).toContain(text);
    expect(screen.queryByTestId("message-error")).toBeNull();
  });

  it("marks an unconfirmed send and says what Heron is doing about it", () => {
    const text = "Unconfirmed: Twilio's answer was lost. Asking the provider whether it has the message.";
    render(<TimelineItem m={reply({ status: "unconfirmed", error_message: text })} currentConversationId={1} />);
    const tick = screen.getByTestId("delivery-status");
    expect(tick.getAttribute("aria-label")).toBe("Unconfirmed");
    expect(tick.getAttribute("title")).toContain(text);
    expect(screen.getByTestId("message-delivery-note").textContent).toContain("Asking the provider");
  });

  it("shows the provider's reason once the reply failed, and no note", () => {
    render(<TimelineItem m={reply({ status: "failed", error_message: "Invalid 'To' number (Twilio error 21211)" })}
      currentConversationId={1} />);
    expect(screen.getByTestId("message-error").textContent).toContain("Not delivered: Invalid 'To' number");
    expect(screen.queryByTestId("message-delivery-note")).toBeNull();
  });

  it("lets an unconfirmed reply turn back into queued, and never undoes sent", () => {
    const unconfirmed = reply({ status: "unconfirmed", error_message: "Unconfirmed: …" });
    expect(mergeMessage(unconfirmed, reply({ status: "queued", error_message: "" })).status).toBe("queued");
    expect(mergeMessage(reply({ status: "sent" }), unconfirmed).status).toBe("sent");
  });
});
