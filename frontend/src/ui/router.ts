import { useSyncExternalStore } from "react";

const subs = new Set<() => void>();
function notify() {
  subs.forEach((f) => f());
}
if (typeof window !== "undefined") window.addEventListener("popstate", notify);

export function navigate(path: string, replace = false) {
  if (path === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  notify();
}

export function usePath(): string {
  return useSyncExternalStore(
    (f) => {
      subs.add(f);
      return () => subs.delete(f);
    },
    () => window.location.pathname,
    () => "/",
  );
}

export type Route =
  | { page: "inbox"; conversationId: number | null }
  | { page: "contacts"; contactId: number | null };

export function parseRoute(path: string): Route {
  let m = path.match(/^\/conversations\/(\d+)\/?$/);
  if (m) return { page: "inbox", conversationId: Number(m[1]) };
  m = path.match(/^\/contacts\/?(\d+)?\/?$/);
  if (m) return { page: "contacts", contactId: m[1] ? Number(m[1]) : null };
  return { page: "inbox", conversationId: null };
}
