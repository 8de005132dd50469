import { describe, expect, it } from "vitest";
import { cannedMatches, pickerKey } from "./picker";

const canned = [
  { id: 1, shortcut: "thanks", text: "Thank you for your patience!" },
  { id: 2, shortcut: "shipping", text: "Orders ship within 2 business days." },
  { id: 3, shortcut: "ship-intl", text: "We ship to 40 countries." },
];

describe("pickerKey", () => {
  it("moves the highlight with the arrows, wrapping at both ends", () => {
    expect(pickerKey({ key: "ArrowDown" }, 2, 3)).toEqual({ type: "move", index: 0 });
    expect(pickerKey({ key: "ArrowUp" }, 0, 3)).toEqual({ type: "move", index: 2 });
  });

  it("chooses with Enter or Tab, but Ctrl+Enter is still send", () => {
    expect(pickerKey({ key: "Enter" }, 0, 3)).toEqual({ type: "choose" });
    expect(pickerKey({ key: "Tab" }, 0, 3)).toEqual({ type: "choose" });
    expect(pickerKey({ key: "Enter", ctrlKey: true }, 0, 3)).toBeNull();
    expect(pickerKey({ key: "Enter", shiftKey: true }, 0, 3)).toBeNull();
  });

  it("closes with Escape, ignores typing, and does nothing without suggestions", () => {
    expect(pickerKey({ key: "Escape" }, 0, 3)).toEqual({ type: "dismiss" });
    expect(pickerKey({ key: "a" }, 0, 3)).toBeNull();
    expect(pickerKey({ key: "Enter" }, 0, 0)).toBeNull();
  });
});

describe("cannedMatches", () => {
  it("offers the shortcuts starting with what follows the slash, case-insensitively", () => {
    expect(cannedMatches("/SHIP", canned).map((c) => c.id)).toEqual([2, 3]);
    expect(cannedMatches("/", canned)).toHaveLength(3);
  });

  it("stays quiet for ordinary text and once a space is typed", () => {
    expect(cannedMatches("ship", canned)).toEqual([]);
    expect(cannedMatches("/ship it", canned)).toEqual([]);
    expect(cannedMatches("/nothing", canned)).toEqual([]);
  });
});
