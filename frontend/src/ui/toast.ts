import { createStore } from "../live/store";

export interface Toast {
  id: number;
  kind: "error" | "info";
  text: string;
}

export const toastStore = createStore<Toast[]>([]);
let seq = 0;

export function showToast(text: string, kind: Toast["kind"] = "error", ttlMs = 6000) {
  const id = ++seq;
  toastStore.set((ts) => [...ts.slice(-3), { id, kind, text }]);
  if (ttlMs > 0) setTimeout(() => dismissToast(id), ttlMs);
  return id;
}

export function dismissToast(id: number) {
  toastStore.set((ts) => ts.filter((t) => t.id !== id));
}
