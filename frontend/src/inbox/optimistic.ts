import { errorText } from "../api/client";
import type { Agent, Conversation, ConversationPatch, ID, TeamRef } from "../api/types";
import { applyConversation } from "../live/reducer";
import type { InboxState } from "../live/state";
import type { Store } from "../live/store";

export interface Lookups {
  agents: Agent[];
  teams: TeamRef[];
}

/** What the conversation will look like once the server accepts `patch`. */
export function applyPatchLocally(c: Conversation, patch: ConversationPatch, lookups: Lookups): Conversation {
  const next: Conversation = { ...c };
  if (patch.status !== undefined) {
    next.status = patch.status;
    if (patch.status !== "snoozed") next.snoozed_until = null;
  }
  if (patch.snoozed_until !== undefined) next.snoozed_until = patch.snoozed_until;
  if (patch.priority !== undefined) next.priority = patch.priority;
  if (patch.labels !== undefined) next.labels = [...patch.labels];
  if (patch.assignee !== undefined) {
    if (patch.assignee === null) next.assignee = null;
    else {
      const a = lookups.agents.find((x) => x.id === patch.assignee);
      next.assignee = { id: patch.assignee, name: a?.name ?? "…" };
    }
  }
  if (patch.team !== undefined) {
    next.team = patch.team === null ? null : (lookups.teams.find((t) => t.id === patch.team) ?? { id: patch.team, name: "…" });
  }
  return next;
}

export function findConversation(state: InboxState, id: ID): Conversation | undefined {
  if (state.current?.id === id) return state.current;
  return state.list.items.find((c) => c.id === id);
}

export interface OptimisticDeps {
  store: Store<InboxState>;
  patchRemote(id: ID, patch: ConversationPatch): Promise<Conversation>;
  lookups: Lookups;
  onError(message: string, error: unknown): void;
}

/**
 * Optimistically apply `patch` to conversation `id`: update the UI at once, send the PATCH,
 * then either adopt the server's version or roll back to the snapshot and report the error.
 * Resolves to true on success.
 */
export async function optimisticPatch(deps: OptimisticDeps, id: ID, patch: ConversationPatch): Promise<boolean> {
  const { store } = deps;
  const snapshot = findConversation(store.get(), id);
  if (!snapshot) return false;
  const optimistic = applyPatchLocally(snapshot, patch, deps.lookups);
  store.set((s) => applyConversation(s, optimistic));
  try {
    const server = await deps.patchRemote(id, patch);
    store.set((s) => applyConversation(s, server));
    return true;
  } catch (e) {
    // Roll back only if nobody (e.g. a live event) replaced our optimistic value meanwhile.
    const now = findConversation(store.get(), id);
    if (!now || now === optimistic || JSON.stringify(now) === JSON.stringify(optimistic)) {
      store.set((s) => applyConversation(s, snapshot));
    }
    deps.onError(`Could not change the conversation, so it is back as it was. ${errorText(e)}`, e);
    return false;
  }
}
