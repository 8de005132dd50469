import { api } from "../api/client";
import type { ID, PresenceState } from "../api/types";
import { applyEvents, applyPresence, setBaseline } from "./reducer";
import { LiveClient, inboxSocketUrl } from "./socket";
import { inboxStore } from "./store";

export * from "./reducer";
export * from "./state";
export { inboxStore, useInbox } from "./store";

let client: LiveClient | null = null;
let resyncHandler: (() => void) | null = null;

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
    applyEvents: (events) => inboxStore.set((s) => applyEvents(s, events)),
    onPresence: (frame) => {
      const { conversation, user, state } = frame.data;
      const known = inboxStore.get().presence[String(conversation)]?.[String(user.id)];
      inboxStore.set((s) => applyPresence(s, frame));
      // Someone new showed up where we are: tell them we're here too (no presence snapshot on connect).
      if (!known && state !== "idle") client?.reannounce(conversation);
    },
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
