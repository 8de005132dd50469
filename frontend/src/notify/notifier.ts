/**
 * Browser notifications: permission is only ever requested from the header toggle (a user
 * gesture), never on page load. Live events go through `notificationFor` (pure, tested).
 */
import type { LiveEvent } from "../api/types";
import { createStore, useStore } from "../live/store";
import { navigate } from "../ui/router";
import { notificationFor, type NotificationSpec } from "./decide";

export type PermissionState = "unsupported" | NotificationPermission;

export interface NotifyPrefs {
  permission: PermissionState;
  /** The user switched notifications on (and has not switched them off since). */
  enabled: boolean;
}

const KEY = "heron.notifications";

function supported(): boolean {
  return typeof window !== "undefined" && "Notification" in window;
}

function readPermission(): PermissionState {
  return supported() ? Notification.permission : "unsupported";
}

function readEnabled(): boolean {
  try {
    return localStorage.getItem(KEY) === "on";
  } catch {
    return false;
  }
}

function writeEnabled(on: boolean) {
  try {
    localStorage.setItem(KEY, on ? "on" : "off");
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}

export const notifyStore = createStore<NotifyPrefs>({ permission: readPermission(), enabled: readEnabled() });

export function useNotifyPrefs(): NotifyPrefs {
  return useStore(notifyStore, (s) => s);
}

export function notificationsActive(p: NotifyPrefs = notifyStore.get()): boolean {
  return p.enabled && p.permission === "granted";
}

/** Toggle from the header button. Asks for permission the first time (this runs in the click). */
export async function toggleNotifications(): Promise<NotifyPrefs> {
  if (!supported()) {
    notifyStore.set({ permission: "unsupported", enabled: false });
    return notifyStore.get();
  }
  const cur = notifyStore.get();
  if (notificationsActive(cur)) {
    writeEnabled(false);
    notifyStore.set({ permission: Notification.permission, enabled: false });
    return notifyStore.get();
  }
  let permission = Notification.permission;
  if (permission === "default") permission = await Notification.requestPermission();
  const enabled = permission === "granted";
  writeEnabled(enabled);
  notifyStore.set({ permission, enabled });
  return notifyStore.get();
}

/** Re-read the permission (the user may have changed it in the browser's site settings). */
export function refreshPermission() {
  const permission = readPermission();
  if (permission !== notifyStore.get().permission) notifyStore.set((s) => ({ ...s, permission }));
}

const seen = new Set<number>();

function show(spec: NotificationSpec) {
  const n = new Notification(spec.title, { body: spec.body, tag: spec.tag, lang: "en" });
  n.onclick = () => {
    window.focus();
    navigate(`/conversations/${spec.conversationId}`);
    n.close();
  };
}

/** Called with every batch of live events the app applies. */
export function notifyForEvents(
  events: LiveEvent[],
  ctx: { meId: number | null; openConversationId: number | null },
  display: (spec: NotificationSpec) => void = show,
) {
  if (ctx.meId === null || !notificationsActive()) return;
  const hidden = typeof document !== "undefined" && document.visibilityState === "hidden";
  const now = Date.now();
  for (const e of events) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    if (seen.size > 2000) seen.delete(seen.values().next().value!);
    const spec = notificationFor(e, { meId: ctx.meId, openConversationId: ctx.openConversationId, hidden, now });
    if (spec) {
      try {
        display(spec);
      } catch {
        /* e.g. Android Chrome only allows notifications from a service worker */
      }
    }
  }
}
