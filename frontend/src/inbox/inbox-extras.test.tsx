// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { applyTyping, inboxStore, initialState } from "../live";
import { me } from "../test/fixtures";
import { SHORTCUTS } from "../ui/HelpOverlay";
import { CustomerTyping } from "./CustomerTyping";
import { ConversationList } from "./ConversationList";
import { metaStore } from "./meta";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  inboxStore.set(initialState());
});

describe("CustomerTyping", () => {
  it("shows 'Alice is typing…' and hides ~6 s after the last frame", () => {
    vi.useFakeTimers();
    inboxStore.set(initialState(me));
    render(<CustomerTyping conversationId={1} name="Alice" />);
    expect(screen.queryByTestId("customer-typing")).toBeNull();
    act(() => inboxStore.set((s) => applyTyping(s, { type: "typing", data: { conversation: 1, contact: 5, state: "typing" } })));
    expect(screen.getByTestId("customer-typing").textContent).toContain("Alice is typing");
    act(() => vi.advanceTimersByTime(4000));
    act(() => inboxStore.set((s) => applyTyping(s, { type: "typing", data: { conversation: 1, contact: 5, state: "typing" } })));
    act(() => vi.advanceTimersByTime(4000));
    expect(screen.queryByTestId("customer-typing")).not.toBeNull();
    act(() => vi.advanceTimersByTime(2500));
    expect(screen.queryByTestId("customer-typing")).toBeNull();
  });

  it("ignores other conversations", () => {
    inboxStore.set(applyTyping(initialState(me), { type: "typing", data: { conversation: 2, contact: 5, state: "typing" } }));
    render(<CustomerTyping conversationId={1} name="Alice" />);
    expect(screen.queryByTestId("customer-typing")).toBeNull();
  });
});

describe("ConversationList extra filters", () => {
  it("renders inbox/label/assignee/priority selects and loads the list with them", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ next: null, previous: null, results: [] }), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    // jsdom has no element scrolling.
    if (!Element.prototype.scrollTo) Element.prototype.scrollTo = () => {};
    metaStore.set({
      agents: [{ id: 2, name: "Bo", email: "bo@example.com", role: "agent", teams: [] }],
      teams: [],
      inboxes: [{ id: 7, name: "Web chat", channel: "google_business", address: "", team: null }],
      labels: [{ id: 1, name: "vip", color: "#f00" }],
      canned: [],
    });
    inboxStore.set(initialState(me));
    render(<ConversationList me={me} selectedId={null} />);
    const urls = () => fetchMock.mock.calls.map((c) => String((c as unknown[])[0]));
    await act(async () => void fireEvent.change(screen.getByTestId("inbox-filter"), { target: { value: "7" } }));
    expect(urls().at(-1)).toContain("inbox=7");
    await act(async () => void fireEvent.change(screen.getByTestId("label-filter"), { target: { value: "vip" } }));
    expect(urls().at(-1)).toContain("label=vip");
    await act(async () => void fireEvent.change(screen.getByTestId("assignee-filter"), { target: { value: "none" } }));
    expect(urls().at(-1)).toContain("assignee=none");
    await act(async () => void fireEvent.change(screen.getByTestId("assignee-filter"), { target: { value: "2" } }));
    expect(urls().at(-1)).toContain("assignee=2");
    await act(async () => void fireEvent.change(screen.getByTestId("priority-filter"), { target: { value: "urgent" } }));
    expect(urls().at(-1)).toMatch(/inbox=7.*label=vip.*assignee=2.*priority=urgent/);
    expect(inboxStore.get().list.filter).toMatchObject({ inbox: 7, label: "vip", assignee: 2, priority: "urgent" });
    vi.unstubAllGlobals();
  });
});

describe("ConversationList filter selects", () => {
  it("show each filter's choices and keep a current value that is not (or no longer) among them", () => {
    vi.stubGlobal("fetch", vi.fn(async () => Response.json({ next: null, previous: null, results: [] })));
    metaStore.set({
      agents: [
        { id: 1, name: "Ana", email: "ana@example.com", role: "agent", teams: [] },
        { id: 2, name: "Mia", email: "mia@example.com", role: "marketer", teams: [] },
      ],
      teams: [],
      inboxes: [{ id: 7, name: "Web chat", channel: "google_business", address: "", team: null }],
      labels: [{ id: 1, name: "vip", color: "#f00" }],
      canned: [],
    });
    const filter = { view: "all" as const, status: "" as const, channel: "email" as const, inbox: 9, label: "gone", assignee: 4, priority: "high" as const };
    inboxStore.set({ ...initialState(me), list: { ...initialState().list, filter } });
    render(<ConversationList me={me} selectedId={null} />);
    const select = (id: string) => screen.getByTestId(id) as HTMLSelectElement;
    const shown = (id: string) => [...select(id).options].map((o) => `${o.value}=${o.textContent}`);
    expect(select("status-filter").value).toBe("");
    expect(shown("status-filter")).toEqual(["open=Open", "pending=Pending", "snoozed=Snoozed", "resolved=Resolved", "=Any status"]);
    expect(select("channel-filter").value).toBe("email");
    expect(shown("channel-filter")).toEqual(["=All channels", "sms=SMS", "email=Email", "voice=Voice", "google_business=Google", "simulator=Simulator"]);
    expect(select("inbox-filter").value).toBe("9");
    expect(shown("inbox-filter").sort()).toEqual(["7=Web chat", "9=Inbox #9", "=All inboxes"].sort());
    expect(select("label-filter").value).toBe("gone");
    expect(shown("label-filter").sort()).toEqual(["=Any label", "gone=gone", "vip=vip"].sort());
    expect(select("assignee-filter").value).toBe("4");
    expect(shown("assignee-filter").sort()).toEqual(["1=Ana (you)", "4=Agent #4", "=Any assignee", "none=Unassigned"].sort()); // no marketers
    expect(select("priority-filter").value).toBe("high");
    expect(shown("priority-filter")).toEqual(["=Any priority", "urgent=Urgent", "high=High", "medium=Medium", "low=Low", "none=No priority"]);
    for (const id of ["status-filter", "channel-filter", "inbox-filter", "label-filter", "assignee-filter", "priority-filter"])
      expect(select(id).getAttribute("aria-label")).toMatch(/ filter$/);
    vi.unstubAllGlobals();
  });
});

describe("help overlay", () => {
  it("lists the `a` shortcut", () => {
    expect(SHORTCUTS.some(([k]) => k === "a")).toBe(true);
  });
});
