/** Keyboard rules shared by the composer's suggestion lists (@mentions in notes, canned responses). */
import type { CannedResponse } from "../api/types";

export type PickerAction = { type: "move"; index: number } | { type: "choose" } | { type: "dismiss" };

/**
 * What a key pressed in the text box does while a list of `count` suggestions is open: arrows move the
 * highlight (wrapping), Enter or Tab choose it, Escape closes the list. Anything else is typing (null).
 */
export function pickerKey(
  e: { key: string; ctrlKey?: boolean; metaKey?: boolean; shiftKey?: boolean },
  index: number,
  count: number,
): PickerAction | null {
  if (count === 0) return null;
  if (e.key === "ArrowDown") return { type: "move", index: (index + 1) % count };
  if (e.key === "ArrowUp") return { type: "move", index: (index + count - 1) % count };
  if ((e.key === "Enter" && !e.ctrlKey && !e.metaKey && !e.shiftKey) || e.key === "Tab") return { type: "choose" };
  if (e.key === "Escape") return { type: "dismiss" };
  return null;
}

/** Canned responses offered while the reply is just "/shortcut" (no space yet): prefix matches, at most six. */
export function cannedMatches(text: string, canned: CannedResponse[]): CannedResponse[] {
  if (!text.startsWith("/") || /\s/.test(text)) return [];
  const typed = text.slice(1).toLowerCase();
  return canned.filter((c) => c.shortcut.toLowerCase().startsWith(typed)).slice(0, 6);
}
