import { api } from "../api/client";
import type { Agent, CannedResponse, Inbox, Label, TeamRef } from "../api/types";
import { createStore, useStore } from "../live/store";

export interface Meta {
  agents: Agent[];
  teams: TeamRef[];
  inboxes: Inbox[];
  labels: Label[];
  canned: CannedResponse[];
}

export const metaStore = createStore<Meta>({ agents: [], teams: [], inboxes: [], labels: [], canned: [] });

export function useMeta<T>(sel: (m: Meta) => T): T {
  return useStore(metaStore, sel);
}

export async function loadMeta() {
  const safe = <T,>(p: Promise<T>, fallback: T) => p.catch(() => fallback);
  const [agents, teams, inboxes, labels, canned] = await Promise.all([
    safe(api.agents(), []),
    safe(api.teams(), []),
    safe(api.inboxes(), []),
    safe(api.labels(), []),
    safe(api.cannedResponses(), []),
  ]);
  metaStore.set({ agents, teams, inboxes, labels, canned });
}
