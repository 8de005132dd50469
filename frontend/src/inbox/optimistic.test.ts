import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { initialState, type InboxState } from "../live/state";
import { createStore } from "../live/store";
import { conv, me } from "../test/fixtures";
import { applyPatchLocally, optimisticPatch } from "./optimistic";

const lookups = { agents: [{ id: 2, name: "Bo", email: "bo@x", role: "agent" as const, teams: [] }], teams: [] };

function makeStore() {
  const s = initialState(me);
  return createStore<InboxState>({
    ...s,
    list: { ...s.list, filter: { view: "all" }, items: [conv(2), conv(1)], loaded: true },
    currentId: 1,
    current: conv(1),
  });
}

describe("optimisticPatch", () => {
  it("applies immediately and adopts the server response", async () => {
    const store = makeStore();
    let resolve!: (v: unknown) => void;
    const patchRemote = vi.fn(() => new Promise((r) => (resolve = r))) as never;
    const p = optimisticPatch({ store, patchRemote, lookups, onError: vi.fn() }, 1, { assignee: 2, priority: "high" });
    expect(store.get().current!.assignee).toEqual({ id: 2, name: "Bo" });
    expect(store.get().current!.priority).toBe("high");
    resolve(conv(1, { assignee: { id: 2, name: "Bo B." }, priority: "high" }));
    await expect(p).resolves.toBe(true);
    expect(store.get().current!.assignee!.name).toBe("Bo B.");
  });

  it("rolls back and reports the error when the server rejects", async () => {
    const store = makeStore();
    const before = store.get().current;
    const onError = vi.fn();
    const patchRemote = vi.fn(async () => {
      throw new ApiError(403, { detail: "Marketers cannot change conversations." });
    });
    const p = optimisticPatch({ store, patchRemote, lookups, onError }, 1, { status: "resolved" });
    expect(store.get().current!.status).toBe("resolved");
    expect(await p).toBe(false);
    expect(store.get().current).toEqual(before);
    expect(store.get().list.items.find((c) => c.id === 1)!.status).toBe("open");
    expect(onError).toHaveBeenCalledWith(expect.stringContaining("Marketers cannot change conversations."), expect.anything());
  });

  it("snoozed status keeps snoozed_until; other statuses clear it", () => {
    const c = applyPatchLocally(conv(1), { status: "snoozed", snoozed_until: "2030-01-01T00:00:00Z" }, lookups);
    expect(c.snoozed_until).toBe("2030-01-01T00:00:00Z");
    expect(applyPatchLocally(c, { status: "open" }, lookups).snoozed_until).toBeNull();
  });
});
