// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { msg } from "../test/fixtures";
import { TimelineItem } from "./TimelineItem";

afterEach(cleanup);

const email = (over: Parameters<typeof msg>[1] = {}) =>
  msg(7, { channel: "email", subject: "Broken lamp", text: "It arrived broken.", ...over });

describe("email in the timeline", () => {
  it("links an inbound email to its original, opened in a new tab", () => {
    render(<TimelineItem m={email({ metadata: { raw_event_id: 31 } })} currentConversationId={1} />);
    const link = screen.getByTestId("view-original");
    expect(link.getAttribute("href")).toBe("/api/v1/messages/7/original/");
    expect(link.getAttribute("target")).toBe("_blank");
    expect(link.getAttribute("rel")).toContain("noopener");
  });

  it("has no original link for our own replies or emails without a stored original", () => {
    render(<TimelineItem m={email({ direction: "out", metadata: { raw_event_id: 31 } })} currentConversationId={1} />);
    render(<TimelineItem m={email({ metadata: {} })} currentConversationId={1} />);
    expect(screen.queryByTestId("view-original")).toBeNull();
  });

  it("lists Cc recipients by name and address", () => {
    const cc = [{ name: "Bob", email: "bob@example.org" }, { name: "", email: "carol@example.org" }];
    render(<TimelineItem m={email({ metadata: { cc } })} currentConversationId={1} />);
    expect(screen.getByText("Cc: Bob <bob@example.org>, carol@example.org")).toBeTruthy();
  });
});
