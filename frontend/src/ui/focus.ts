import type { KeyboardEvent } from "react";

const FOCUSABLE =
  "a[href], button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex='-1'])";

/** Keeps Tab / Shift+Tab inside `container` (a modal): from the last element back to the first, and the other way. */
export function trapTab(container: HTMLElement | null, e: KeyboardEvent) {
  if (e.key !== "Tab" || !container) return;
  const focusable = Array.from(container.querySelectorAll<HTMLElement>(FOCUSABLE));
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (!first || !last) return;
  const active = document.activeElement;
  if (e.shiftKey && (active === first || active === container)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && active === last) {
    e.preventDefault();
    first.focus();
  }
}

/** The element a modal should focus when it opens: the one marked `data-autofocus`, else the first focusable one. */
export function initialFocus(container: HTMLElement): HTMLElement | null {
  return container.querySelector<HTMLElement>("[data-autofocus]") ?? container.querySelector<HTMLElement>(FOCUSABLE);
}
