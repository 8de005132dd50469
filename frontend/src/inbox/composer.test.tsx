// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Message, ReplyOptions } from "../api/types";
import { inboxStore, initialState } from "../live";
import { conv, me, msg } from "../test/fixtures";
import { Composer } from "./Composer";
import { metaStore } from "./meta";

const GOOGLE_CLOSED = "The google business reply window is closed: replies are only allowed within 30 days of the customer's last message.";
const SMS_AND_EMAIL: ReplyOptions = {
  default: "sms",
  options: [
    { channel: "sms", available: true, reason: "", to: "+15558675310", inbox: 5 },
    { channel: "email", available: true, reason: "", to: "paula@example.org", inbox: 6 },
    { channel: "google_business", available: false, reason: GOOGLE_CLOSED, to: "", inbox: null },
  ],
};

/** The server at the other end of fetch: reply options (or a failure), and the messages posted. */
function server(replyOptions: () => Response | Promise<Response>) {
  const posted: (Record<string, unknown> | FormData)[] = [];
  let sent = 0;
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    if (url.endsWith("/reply-options/")) return replyOptions();
    if (url.endsWith("/messages/") && init?.method === "POST") {
      const body = init.body instanceof FormData ? init.body : (JSON.parse(String(init.body)) as Record<string, unknown>);
      posted.push(body);
      return Response.json(msg(900 + ++sent, { direction: "out", text: "sent" }), { status: 201 });
    }
    return new Response("not found", { status: 404 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { posted, fetchMock };
}

const json = (body: unknown) => () => Response.json(body);

function deferred() {
  let resolve!: (r: Response) => void;
  const promise = new Promise<Response>((res) => (resolve = res));
  return { promise, resolve };
}

async function open(timeline: Message[] = []) {
  inboxStore.set({ ...initialState(me), timeline: { ...initialState().timeline, contactId: 101, messages: timeline, loaded: true } });
  render(<Composer me={me} conversation={conv(1)} />);
  await act(async () => {}); // the reply options arrive
}

const box = () => screen.getByTestId("composer-input") as HTMLTextAreaElement;
const send = () => screen.getByTestId("composer-send") as HTMLButtonElement;
const channelPicker = () => screen.getByTestId("composer-channel") as HTMLSelectElement;

/** Type as the browser does: the caret ends up after what was typed. */
function type(value: string) {
  fireEvent.change(box(), { target: { value, selectionStart: value.length, selectionEnd: value.length } });
}

async function click(el: HTMLElement) {
  await act(async () => void fireEvent.click(el));
}

function file(name: string, size: number, type = "image/png"): File {
  const f = new File(["x"], name, { type });
  Object.defineProperty(f, "size", { value: size });
  return f;
}

beforeEach(() => {
  metaStore.set({
    agents: [
      { id: 1, name: "Ana", email: "ana@example.com", role: "agent", teams: [] },
      { id: 2, name: "Bo Berg", email: "bo@example.com", role: "agent", teams: [{ id: 10, name: "Support" }] },
      { id: 3, name: "Cy", email: "cy@example.com", role: "admin", teams: [] },
    ],
    teams: [],
    inboxes: [],
    labels: [],
    canned: [
      { id: 1, shortcut: "thanks", text: "Thanks for writing to us!" },
      { id: 2, shortcut: "hours", text: "We are open 9 to 5." },
    ],
  });
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  inboxStore.set(initialState());
});

describe("composer: where a reply goes", () => {
  it("replies by the server's default channel to the recipient it names", async () => {
    const { posted } = server(json(SMS_AND_EMAIL));
    await open();
    expect(channelPicker().value).toBe("sms");
    expect(screen.getByTestId("composer-recipient").textContent).toBe("to +1 555 867 5310");
    type("Your table is ready");
    expect(screen.getByTestId("sms-counter").textContent).toBe("19 chars · 1 segment · GSM-7");
    await click(send());
    expect(posted).toEqual([{ text: "Your table is ready", private: false, channel: "sms" }]);
    expect(box().value).toBe("");
  });

  it("sends an email with the subject of the last email and the Cc typed", async () => {
    const { posted } = server(json(SMS_AND_EMAIL));
    await open([msg(1, { channel: "email", subject: "Damaged mug" }), msg(2, { channel: "sms" })]);
    fireEvent.change(channelPicker(), { target: { value: "email" } });
    expect(screen.getByTestId("composer-recipient").textContent).toBe("to paula@example.org");
    expect((screen.getByTestId("composer-subject") as HTMLInputElement).value).toBe("Re: Damaged mug");
    fireEvent.change(screen.getByTestId("composer-cc"), { target: { value: "a@x.org; b@y.org" } });
    type("A new one is on its way.");
    expect(screen.queryByTestId("sms-counter")).toBeNull();
    expect(send().textContent).toBe("Send Email");
    await click(send());
    expect(posted).toEqual([{ text: "A new one is on its way.", private: false, channel: "email", subject: "Re: Damaged mug", cc: ["a@x.org", "b@y.org"] }]);
    expect((screen.getByTestId("composer-cc") as HTMLInputElement).value).toBe("");
  });

  it("shows an unavailable channel with the server's reason and offers a note instead", async () => {
    const { posted } = server(json(SMS_AND_EMAIL));
    await open();
    const google = channelPicker().querySelector<HTMLOptionElement>("option[value=google_business]")!;
    expect(google.disabled).toBe(true);
    expect(google.title).toBe(GOOGLE_CLOSED);
    expect(google.textContent).toBe("Google (unavailable)");
    fireEvent.change(channelPicker(), { target: { value: "google_business" } });
    expect(screen.getByTestId("composer-disabled-reason").textContent).toContain(GOOGLE_CLOSED);
    expect(box().disabled).toBe(true);
    expect(send().disabled).toBe(true);

    await click(screen.getByTestId("composer-note-instead"));
    expect(screen.getByTestId("composer").dataset.mode).toBe("note");
    expect(box().disabled).toBe(false);
    expect(document.activeElement).toBe(box());
    type("Customer asked on Google, window closed");
    await click(send());
    expect(posted).toEqual([{ text: "Customer asked on Google, window closed", private: true }]);
  });
});

describe("composer: the server is the only word on where a reply goes", () => {
  it("offers no channel and sends no reply until the server answers; a note can go meanwhile", async () => {
    const answer = deferred();
    const { posted } = server(() => answer.promise);
    await open([msg(1, { channel: "email", subject: "Invoice" })]); // the last email is no hint
    expect(channelPicker().disabled).toBe(true);
    expect(channelPicker().value).toBe("");
    expect([...channelPicker().options].map((o) => o.textContent)).toEqual(["loading…"]);
    type("Hello");
    expect(box().placeholder).toMatch(/^Write a reply…/);
    expect(send().textContent).toBe("Send");
    expect(send().disabled).toBe(true);
    expect(screen.queryByTestId("composer-disabled-reason")).toBeNull(); // nothing wrong, just not known yet

    await click(screen.getByTestId("composer-mode-note"));
    expect(send().disabled).toBe(false);
    await click(screen.getByTestId("composer-mode-reply"));

    await act(async () => answer.resolve(Response.json(SMS_AND_EMAIL)));
    expect(channelPicker().disabled).toBe(false);
    expect(channelPicker().value).toBe("sms");
    expect(send().textContent).toBe("Send SMS");
    await click(send());
    expect(posted).toEqual([{ text: "Hello", private: false, channel: "sms" }]);
  });

  it("says why no reply can go when the options could not be loaded, and asks again", async () => {
    let fail = true;
    server(() => (fail ? Response.json({ detail: "boom" }, { status: 500 }) : Response.json(SMS_AND_EMAIL)));
    await open();
    const reason = screen.getByTestId("composer-disabled-reason");
    expect(reason.textContent).toContain("Could not load where this reply can go. The server had a problem (500).");
    expect(box().disabled).toBe(true);
    expect(send().disabled).toBe(true);
    fail = false;
    await click(screen.getByTestId("composer-reply-options-retry"));
    expect(screen.queryByTestId("composer-disabled-reason")).toBeNull();
    expect(channelPicker().value).toBe("sms");
    type("Back again");
    expect(send().disabled).toBe(false);
  });
});

describe("composer: mentions and canned responses", () => {
  it("mentions a colleague picked from the list and sends their id with the note", async () => {
    const { posted } = server(json(SMS_AND_EMAIL));
    await open();
    await click(screen.getByTestId("composer-mode-note"));
    type("Ask @b");
    const options = screen.getAllByTestId("mention-option");
    expect(options.map((o) => o.dataset.optionId)).toEqual(["2"]); // not me (Ana)
    expect(box().getAttribute("aria-activedescendant")).toBe(options[0]!.id);
    fireEvent.keyDown(box(), { key: "Enter" });
    expect(box().value).toBe("Ask @Bo Berg ");
    expect(screen.queryByTestId("mention-picker")).toBeNull(); // "@Bo Berg " does not reopen it
    type("Ask @Bo Berg about the refund");
    await click(send());
    expect(posted).toEqual([{ text: "Ask @Bo Berg about the refund", private: true, mentions: [2] }]);
  });

  it("moves with the arrows, keeps a dismissed list closed for that @, and drops a mention whose name was deleted", async () => {
    const { posted } = server(json(SMS_AND_EMAIL));
    await open();
    await click(screen.getByTestId("composer-mode-note"));
    type("@");
    expect(screen.getAllByTestId("mention-option").map((o) => o.dataset.optionId)).toEqual(["2", "3"]);
    fireEvent.keyDown(box(), { key: "ArrowDown" });
    expect(screen.getAllByTestId("mention-option")[1]!.getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(box(), { key: "Enter" });
    expect(box().value).toBe("@Cy ");
    type("@Cy and @B");
    fireEvent.keyDown(box(), { key: "Escape" });
    expect(screen.queryByTestId("mention-picker")).toBeNull();
    type("@Cy and @Bo");
    expect(screen.queryByTestId("mention-picker")).toBeNull(); // still the dismissed "@"
    type("nobody");
    await click(send());
    expect(posted).toEqual([{ text: "nobody", private: true }]);
  });

  it("replaces a /shortcut with its canned response", async () => {
    server(json(SMS_AND_EMAIL));
    await open();
    type("/");
    expect(screen.getAllByTestId("canned-option")).toHaveLength(2);
    type("/th");
    expect(screen.getAllByTestId("canned-option").map((o) => o.textContent)).toEqual(["/thanksThanks for writing to us!"]);
    fireEvent.keyDown(box(), { key: "Tab" });
    expect(box().value).toBe("Thanks for writing to us!");
    expect(screen.queryByTestId("canned-picker")).toBeNull();
    type("/ho");
    fireEvent.keyDown(box(), { key: "Escape" });
    expect(screen.queryByTestId("canned-picker")).toBeNull();
    expect(box().value).toBe("/ho");
  });
});

describe("composer: attachments", () => {
  it("adds chosen files as chips, refuses what is over the limits, and sends the rest as multipart", async () => {
    const { posted } = server(json(SMS_AND_EMAIL));
    await open();
    const input = screen.getByTestId("composer-file-input");
    fireEvent.change(input, { target: { files: [file("photo.png", 2000), file("huge.mov", 11 * 1024 * 1024, "video/quicktime")] } });
    expect(screen.getAllByTestId("attachment-chip").map((c) => c.querySelector(".file-name")!.textContent)).toEqual(["photo.png"]);
    expect(screen.getByTestId("composer-attach-error").textContent).toContain("huge.mov is 11.0 MB; each file can be at most 10.0 MB.");
    expect(screen.getByTestId("composer-attach").textContent).toBe("1");
    expect(send().disabled).toBe(true); // files alone are not a message
    expect(screen.getByText("Add a message to send with the files.")).toBeTruthy();

    type("Here is the label");
    await click(send());
    const body = posted[0] as FormData;
    expect(body).toBeInstanceOf(FormData);
    expect(body.get("text")).toBe("Here is the label");
    expect(body.get("channel")).toBe("sms");
    expect((body.getAll("files") as File[]).map((f) => f.name)).toEqual(["photo.png"]);
    expect(screen.queryAllByTestId("attachment-chip")).toHaveLength(0);
    expect(screen.queryByTestId("composer-attach-error")).toBeNull();
  });

  it("blocks an MMS over the carriers' total until a file is removed or the reply goes by email", async () => {
    server(json(SMS_AND_EMAIL));
    await open();
    fireEvent.change(screen.getByTestId("composer-file-input"), { target: { files: [file("a.png", 3 * 1024 * 1024), file("b.png", 3 * 1024 * 1024)] } });
    type("Two photos");
    expect(screen.getByTestId("composer-attach-error").textContent).toContain("SMS/MMS attachments can be at most 5.0 MB in total");
    expect(send().disabled).toBe(true);
    fireEvent.change(channelPicker(), { target: { value: "email" } });
    expect(screen.queryByTestId("composer-attach-error")).toBeNull();
    expect(send().disabled).toBe(false);
    fireEvent.change(channelPicker(), { target: { value: "sms" } });
    fireEvent.click(screen.getAllByTestId("attachment-chip-remove")[1]!);
    expect(screen.getAllByTestId("attachment-chip")).toHaveLength(1);
    expect(send().disabled).toBe(false);
  });

  it("takes dropped and pasted files", async () => {
    server(json(SMS_AND_EMAIL));
    await open();
    const composer = screen.getByTestId("composer");
    const dropped = { types: ["Files"], files: [file("drop.pdf", 100, "application/pdf")], dropEffect: "none" };
    fireEvent.dragEnter(composer, { dataTransfer: dropped });
    expect(composer.classList.contains("dragging")).toBe(true);
    fireEvent.drop(composer, { dataTransfer: dropped });
    expect(composer.classList.contains("dragging")).toBe(false);
    fireEvent.paste(box(), { clipboardData: { files: [file("pasted.png", 100)], getData: () => "" } });
    fireEvent.paste(box(), { clipboardData: { files: [file("drop.pdf", 100, "application/pdf")], getData: () => "" } }); // already there
    expect(screen.getAllByTestId("attachment-chip").map((c) => c.querySelector(".file-name")!.textContent)).toEqual(["drop.pdf", "pasted.png"]);
  });
});
