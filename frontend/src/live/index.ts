import { api } from "../api/client";
import type { ID, LiveEvent, PresenceState } from "../api/types";
import { applyEvents, applyPresence, applyTyping, setBaseline } from "./reducer";
import { LiveClient, inboxSocketUrl } from "./socket";
import { inboxStore } from "./store";

export * from "./reducer";
export * from "./state";
export { inboxStore, useInbox } from "./store";

let client: LiveClient | null = null;
let resyncHandler: (() => void) | null = null;

const eventListeners = new Set<(events: LiveEvent[]) => void>();

/** Be told about every batch of live events after it has been applied to the store. */
export function onLiveEvents(fn: (events: LiveEvent[]) => void): () => void {
  eventListeners.add(fn);
  return () => eventListeners.delete(fn);
}

export function onResync(fn: () => void) {
  resyncHandler = fn;
}

export function startLive() {
  if (client) return;
  client = new LiveClient({
    url: inboxSocketUrl(),
    source: api,
    getLastEventId: () => inboxStore.get().lastEventId,
    setBaseline: (id) => inboxStore.set((s) => setBaseline(s, id)),
    applyEvents: (events) => {
      inboxStore.set((s) => applyEvents(s, events));
      eventListeners.forEach((fn) => fn(events));
    },
    onPresence: (frame) => {
      const { conversation, user, state } = frame.data;
      const known = inboxStore.get().presence[String(conversation)]?.[String(user.id)];
      inboxStore.set((s) => applyPresence(s, frame));
      // Someone new showed up where we are: tell them we're here too (no presence snapshot on connect).
      if (!known && state !== "idle") client?.reannounce(conversation);
    },
    onTyping: (frame) => inboxStore.set((s) => applyTyping(s, frame)),
    onStatus: (connection) => inboxStore.set((s) => ({ ...s, connection })),
    onResync: () => resyncHandler?.(),
  });
  client.start();
}

export function stopLive() {
  client?.stop();
  client = null;
}

export function sendPresence(conversation: ID, state: PresenceState) {
  client?.sendPresence(conversation, state);
}
