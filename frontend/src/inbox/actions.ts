import { ApiError, api, errorText } from "../api/client";
import type { Conversation, ConversationFilter, ConversationPatch, ID, Message, SendMessageBody } from "../api/types";
import { applyConversation, prependOlder, upsertMessage } from "../live/reducer";
import { emptyTimeline } from "../live/state";
import { inboxStore as store } from "../live/store";
import { showToast } from "../ui/toast";
import { metaStore } from "./meta";
import { optimisticPatch } from "./optimistic";

let listAbort: AbortController | null = null;

export async function loadList(filter: ConversationFilter = store.get().list.filter) {
  listAbort?.abort();
  const ctrl = new AbortController();
  listAbort = ctrl;
  store.set((s) => ({ ...s, list: { ...s.list, filter, loading: true, error: null } }));
  try {
    const page = await api.conversations(filter, ctrl.signal);
    if (ctrl.signal.aborted) return;
    store.set((s) => ({
      ...s,
      list: { filter, items: page.results, next: page.next, loading: false, loaded: true, error: null },
    }));
  } catch (e) {
    if (ctrl.signal.aborted) return;
    store.set((s) => ({
      ...s,
      list: { ...s.list, loading: false, loaded: true, error: errorText(e) },
    }));
  }
}

export async function loadMore() {
  const { list } = store.get();
  if (!list.next || list.loading) return;
  const url = list.next;
  const filter = list.filter;
  store.set((s) => ({ ...s, list: { ...s.list, loading: true } }));
  try {
    const page = await api.conversations(url);
    store.set((s) => {
      if (s.list.filter !== filter) return s;
      const have = new Set(s.list.items.map((c) => c.id));
      return {
        ...s,
        list: { ...s.list, items: [...s.list.items, ...page.results.filter((c) => !have.has(c.id))], next: page.next, loading: false },
      };
    });
  } catch (e) {
    store.set((s) => ({ ...s, list: { ...s.list, loading: false } }));
    showToast(`Could not load more conversations: ${errorText(e)}`);
  }
}

let timelineAbort: AbortController | null = null;

export async function loadTimeline(contactId: ID) {
  timelineAbort?.abort();
  const ctrl = new AbortController();
  timelineAbort = ctrl;
  store.set((s) => ({ ...s, timeline: { ...emptyTimeline(contactId), loading: true } }));
  try {
    const page = await api.timeline(contactId, null, ctrl.signal);
    if (ctrl.signal.aborted) return;
    store.set((s) => {
      if (s.timeline.contactId !== contactId) return s;
      // Keep live messages that arrived while the request was in flight.
      const merged = prependOlder({ ...s.timeline, messages: s.timeline.messages }, page.results, page.next);
      return { ...s, timeline: merged };
    });
  } catch (e) {
    if (ctrl.signal.aborted) return;
    store.set((s) => ({ ...s, timeline: { ...s.timeline, loading: false, loaded: true } }));
    showToast(`Could not load the timeline: ${errorText(e)}`);
  }
}

export async function loadOlder() {
  const { timeline } = store.get();
  if (!timeline.older || timeline.loading || timeline.contactId === null) return;
  const contactId = timeline.contactId;
  store.set((s) => ({ ...s, timeline: { ...s.timeline, loading: true } }));
  try {
    const page = await api.timeline(contactId, timeline.older);
    store.set((s) => (s.timeline.contactId === contactId ? { ...s, timeline: prependOlder(s.timeline, page.results, page.next) } : s));
  } catch (e) {
    store.set((s) => ({ ...s, timeline: { ...s.timeline, loading: false } }));
    showToast(`Could not load older messages: ${errorText(e)}`);
  }
}

export async function loadContact(contactId: ID) {
  try {
    const contact = await api.contact(contactId);
    store.set((s) => (s.current?.contact.id === contactId || s.timeline.contactId === contactId ? { ...s, contact } : s));
  } catch (e) {
    showToast(`Could not load the contact: ${errorText(e)}`);
  }
}

/** Opens a conversation; resolves to false when the server says it does not exist (or is not ours to see). */
export async function openConversation(id: ID | null): Promise<boolean> {
  const s0 = store.get();
  if (id === null) {
    store.set((s) => ({ ...s, currentId: null, current: null, contact: null, timeline: emptyTimeline() }));
    return true;
  }
  const fromList = s0.list.items.find((c) => c.id === id) ?? (s0.current?.id === id ? s0.current : null);
  store.set((s) => ({ ...s, currentId: id, current: fromList, contact: fromList && s.contact?.id === fromList.contact.id ? s.contact : null }));
  let conv = fromList;
  try {
    const fresh = await api.conversation(id);
    if (store.get().currentId !== id) return true;
    store.set((s) => ({ ...applyConversation(s, fresh), current: fresh }));
    conv = fresh;
  } catch (e) {
    if (!conv) {
      showToast(e instanceof ApiError && e.status === 404 ? "Conversation not found" : `Could not open conversation: ${errorText(e)}`);
      store.set((s) => (s.currentId === id ? { ...s, currentId: null } : s));
      return !(e instanceof ApiError && e.status === 404);
    }
  }
  if (!conv) return true;
  const contactId = conv.contact.id;
  if (store.get().timeline.contactId !== contactId || !store.get().timeline.loaded) void loadTimeline(contactId);
  void loadContact(contactId);
  return true;
}

export async function markRead(id: ID) {
  store.set((s) => {
    const c = s.list.items.find((x) => x.id === id) ?? (s.current?.id === id ? s.current : null);
    return c && c.unread_count ? applyConversation(s, { ...c, unread_count: 0 }) : s;
  });
  try {
    await api.markRead(id);
  } catch {
    /* not important */
  }
}

export function patchConversation(id: ID, patch: ConversationPatch) {
  const meta = metaStore.get();
  return optimisticPatch(
    {
      store,
      patchRemote: api.patchConversation,
      lookups: { agents: meta.agents, teams: meta.teams },
      onError: (msg) => showToast(msg),
    },
    id,
    patch,
  );
}

/** Resolves a conversation, with an "Undo" that puts back the status it had (and its snooze). */
export async function resolveConversation(c: Conversation) {
  const before: ConversationPatch =
    c.status === "snoozed" ? { status: "snoozed", snoozed_until: c.snoozed_until } : { status: c.status };
  if (await patchConversation(c.id, { status: "resolved" })) {
    showToast(`Resolved “${c.contact.name || `#${c.id}`}”.`, "info", 8000, {
      label: "Undo",
      run: () => void patchConversation(c.id, before),
    });
  }
}

/** Sends a reply or note; throws ApiError so the composer can show the message inline. */
export async function sendMessage(conversationId: ID, body: SendMessageBody | FormData): Promise<Message> {
  const msg = await api.sendMessage(conversationId, body);
  // A live event for this message may already have arrived (with a newer status): keep it.
  store.set((s) =>
    s.timeline.contactId === msg.contact && !s.timeline.messages.some((m) => m.id === msg.id)
      ? { ...s, timeline: { ...s.timeline, messages: upsertMessage(s.timeline.messages, msg) } }
      : s,
  );
  return msg;
}

export function resync() {
  void loadList();
  const { current } = store.get();
  if (current) {
    void loadTimeline(current.contact.id);
    void loadContact(current.contact.id);
  }
}
