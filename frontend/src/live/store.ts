import { useSyncExternalStore } from "react";
import { initialState, type InboxState } from "./state";

export interface Store<S> {
  get(): S;
  set(next: S | ((s: S) => S)): void;
  subscribe(fn: () => void): () => void;
}

export function createStore<S>(initial: S): Store<S> {
  let state = initial;
  const subs = new Set<() => void>();
  return {
    get: () => state,
    set(next) {
      const value = typeof next === "function" ? (next as (s: S) => S)(state) : next;
      if (value === state) return;
      state = value;
      subs.forEach((fn) => fn());
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}

/** The single app-wide inbox store (list, open conversation, timeline, presence, live status). */
export const inboxStore = createStore<InboxState>(initialState());

export function useStore<S, T>(store: Store<S>, selector: (s: S) => T): T {
  return useSyncExternalStore(
    store.subscribe,
    () => selector(store.get()),
    () => selector(store.get()),
  );
}

export function useInbox<T>(selector: (s: InboxState) => T): T {
  return useStore(inboxStore, selector);
}
