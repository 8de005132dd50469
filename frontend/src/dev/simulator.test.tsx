// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Inbox, Me } from "../api/types";
import { me as agentMe } from "../test/fixtures";
import { SimulatorButton } from "./SimulatorButton";
import { defaultOptions, simulatePayload, visibleFields } from "./simulator-logic";

const admin: Me = { ...agentMe, id: 9, role: "admin", email: "ada@example.com", name: "Ada" };
const CHANNELS = {
  simulator: ["sender", "name", "to", "text"],
  sms: ["sender", "to", "text", "media", "sid"],
  email: ["sender", "name", "to", "subject", "text", "html", "reply_to_last"],
};
const inboxes: Inbox[] = [
  { id: 1, name: "Support simulator", channel: "simulator", address: "support", team: null },
  { id: 2, name: "Main SMS", channel: "sms", address: "+15550001111", team: null },
];

describe("simulator logic", () => {
  it("hides options the drawer cannot express and orders the rest", () => {
    expect(visibleFields(CHANNELS.email)).toEqual(["sender", "name", "to", "subject", "text", "html"]);
    expect(visibleFields(CHANNELS.sms)).toEqual(["sender", "to", "text", "sid"]);
  });

  it("defaults to an existing inbox of the channel, else the demo numbers", () => {
    expect(defaultOptions("sms", CHANNELS.sms, inboxes)).toMatchObject({ sender: "+15558675310", to: "+15550001111" });
    expect(defaultOptions("sms", CHANNELS.sms, [])).toMatchObject({ to: "+15017122661" });
    expect(defaultOptions("email", CHANNELS.email, [])).toMatchObject({ sender: "alice@example.org", to: "" });
    expect(defaultOptions("simulator", CHANNELS.simulator, inboxes).to).toBe("support");
    expect(defaultOptions("simulator", CHANNELS.simulator, inboxes).text).not.toBe("");
    // `simulate google` posts to a google_business inbox.
    const google: Inbox = { id: 3, name: "Google", channel: "google_business", address: "brands/1/agents/2", team: null };
    expect(defaultOptions("google", ["sender", "to", "text"], [...inboxes, google]).to).toBe("brands/1/agents/2");
  });

  it("sends only the channel's visible options, trimmed", () => {
    expect(simulatePayload("sms", CHANNELS.sms, { sender: " +1555 ", to: "x", text: "hi", media: "/etc/passwd", extra: "y" })).toEqual({
      channel: "sms",
      options: { sender: "+1555", to: "x", text: "hi", sid: "" },
    });
  });
});

function mockFetch(simulate: { status: number; body: unknown }) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    if (url.endsWith("/simulate/") && (!init || init.method === "GET")) return json(simulate.status, simulate.body);
    if (url.endsWith("/simulate/")) return json(200, { status_code: 204, body: "" });
    if (url.endsWith("/inboxes/")) return json(200, inboxes);
    return json(404, { detail: "Not found." });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

describe("SimulatorButton", () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("is not shown to agents, and does not even ask the server", async () => {
    const calls = mockFetch({ status: 200, body: { channels: CHANNELS } });
    render(<SimulatorButton me={agentMe} />);
    await act(async () => {});
    expect(screen.queryByTestId("simulator-open")).toBeNull();
    expect(calls).toHaveLength(0);
  });

  it("is not shown when the server has no simulator endpoint", async () => {
    const calls = mockFetch({ status: 404, body: { detail: "Not found." } });
    render(<SimulatorButton me={admin} />);
    await waitFor(() => expect(calls).toHaveLength(1));
    await act(async () => {});
    expect(screen.queryByTestId("simulator-open")).toBeNull();
  });

  it("opens a drawer with the channel's fields and posts what the admin typed", async () => {
    const calls = mockFetch({ status: 200, body: { channels: CHANNELS } });
    render(<SimulatorButton me={admin} />);
    fireEvent.click(await screen.findByTestId("simulator-open"));
    await screen.findByTestId("simulator-drawer");
    const channel = screen.getByTestId("simulator-channel") as HTMLSelectElement;
    expect([...channel.options].map((o) => o.value)).toEqual(["simulator", "email", "sms"]);
    fireEvent.change(channel, { target: { value: "sms" } });
    await waitFor(() => expect((screen.getByTestId("simulator-field-to") as HTMLInputElement).value).toBe("+15550001111"));
    expect(screen.queryByTestId("simulator-field-media")).toBeNull();
    fireEvent.change(screen.getByTestId("simulator-field-text"), { target: { value: "Where is my parcel?" } });
    fireEvent.click(screen.getByTestId("simulator-send"));
    expect(await screen.findByTestId("simulator-result")).toHaveProperty("dataset.ok", "true");
    const post = calls.find((c) => c.init?.method === "POST")!;
    expect(JSON.parse(String(post.init!.body))).toEqual({
      channel: "sms",
      options: { sender: "+15558675310", to: "+15550001111", text: "Where is my parcel?", sid: "" },
    });
  });
});
