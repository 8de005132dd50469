// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/client";
import type { Contact } from "../api/types";
import { ContactDetails } from "../inbox/ContactDetails";
import { metaStore } from "../inbox/meta";
import { contact } from "../test/fixtures";
import { toastStore } from "../ui/toast";

const labelsShown = () => screen.queryAllByTestId("contact-label").map((el) => el.textContent);

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

beforeEach(() => {
  vi.spyOn(api, "contactConversations").mockResolvedValue([]);
  metaStore.set({ agents: [], teams: [], inboxes: [], labels: [{ id: 1, name: "VIP", color: "#f00" }], canned: [] });
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe("contact labels in the contact panel", () => {
  it("shows an added label at once, sends the whole set, and keeps the server's answer", async () => {
    const reply = deferred<Contact>();
    const patch = vi.spyOn(api, "patchContact").mockReturnValue(reply.promise);
    vi.spyOn(api, "labels").mockResolvedValue([]);
    const onChange = vi.fn();
    render(<ContactDetails contact={contact(5, { labels: ["churn-risk"] })} canEdit onChange={onChange} />);

    fireEvent.change(screen.getByTestId("contact-label-input"), { target: { value: "vip" } });
    fireEvent.submit(screen.getByTestId("contact-label-input"));
    // "vip" is the existing "VIP": no near-duplicate label is created.
    expect(patch).toHaveBeenCalledWith(5, { labels: ["VIP", "churn-risk"] });
    expect(labelsShown()).toEqual(["VIP", "churn-risk"]);

    // A second change while the first is in flight is ignored rather than racing it.
    fireEvent.click(screen.getByTestId("contact-label-remove-churn-risk"));
    expect(patch).toHaveBeenCalledTimes(1);

    const saved = contact(5, { labels: ["VIP", "churn-risk"] });
    await act(async () => reply.resolve(saved));
    expect(onChange).toHaveBeenCalledWith(saved);
  });

  it("rolls back to the contact's labels and says why when the server refuses", async () => {
    vi.spyOn(api, "patchContact").mockRejectedValue(new Error("Marketers have read-only access"));
    render(<ContactDetails contact={contact(5, { labels: ["churn-risk", "vip"] })} canEdit onChange={vi.fn()} />);

    await act(async () => void fireEvent.click(screen.getByTestId("contact-label-remove-vip")));
    expect(labelsShown()).toEqual(["churn-risk", "vip"]);
    expect(JSON.stringify(toastStore.get())).toContain("read-only");
  });

  it("offers no editor to those who may only read", () => {
    render(<ContactDetails contact={contact(5, { labels: ["vip"] })} canEdit={false} onChange={vi.fn()} />);
    expect(labelsShown()).toEqual(["vip"]);
    expect(screen.queryByTestId("contact-label-input")).toBeNull();
    expect(screen.queryByTestId("contact-label-remove-vip")).toBeNull();
  });
});
