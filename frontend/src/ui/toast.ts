import { createStore } from "../live/store";

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface Toast {
  id: number;
  kind: "error" | "info";
  text: string;
  /** One button next to the text (e.g. "Undo"); the toast closes when it is used. */
  action?: ToastAction;
}

export const toastStore = createStore<Toast[]>([]);
let seq = 0;

export function showToast(text: string, kind: Toast["kind"] = "error", ttlMs = 6000, action?: ToastAction) {
  const id = ++seq;
  toastStore.set((ts) => [...ts.slice(-3), { id, kind, text, action }]);
  if (ttlMs > 0) setTimeout(() => dismissToast(id), ttlMs);
  return id;
}

export function dismissToast(id: number) {
  toastStore.set((ts) => ts.filter((t) => t.id !== id));
}
