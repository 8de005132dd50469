import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { conv, messageEvent, msg } from "../test/fixtures";

class FakeNotification {
  static permission: NotificationPermission = "default";
  static requestPermission = vi.fn(async () => {
    FakeNotification.permission = "granted";
    return "granted" as NotificationPermission;
  });
}

describe("notifier", () => {
  beforeEach(() => {
    vi.resetModules();
    localStorage.clear();
    FakeNotification.permission = "default";
    FakeNotification.requestPermission.mockClear();
    vi.stubGlobal("Notification", FakeNotification);
  });
  afterEach(() => vi.unstubAllGlobals());

  it("never asks for permission on load; asks once when the user switches it on, and can switch off", async () => {
    const n = await import("./notifier");
    expect(FakeNotification.requestPermission).not.toHaveBeenCalled();
    expect(n.notificationsActive()).toBe(false);
    await n.toggleNotifications();
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1);
    expect(n.notificationsActive()).toBe(true);
    expect(localStorage.getItem("heron.notifications")).toBe("on");
    await n.toggleNotifications();
    expect(n.notificationsActive()).toBe(false);
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1);
  });

  it("shows each matching live event once, and nothing while switched off", async () => {
    const n = await import("./notifier");
    const shown = vi.fn();
    const now = new Date().toISOString();
    const ev = messageEvent(42, msg(7, { created_at: now }), conv(1));
    n.notifyForEvents([ev], { meId: 1, openConversationId: 2 }, shown);
    expect(shown).not.toHaveBeenCalled(); // off
    await n.toggleNotifications();
    n.notifyForEvents([ev], { meId: 1, openConversationId: 2 }, shown);
    n.notifyForEvents([ev], { meId: 1, openConversationId: 2 }, shown); // duplicate delivery (catch-up overlap)
    expect(shown).toHaveBeenCalledTimes(1);
    expect(shown.mock.calls[0]![0]).toMatchObject({ conversationId: 1, reason: "assigned" });
  });
});
