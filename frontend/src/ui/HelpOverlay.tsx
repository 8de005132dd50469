import { useEffect, useState } from "react";
import { onCommand } from "./commands";
import { Dialog } from "./Dialog";

export const SHORTCUTS: [string, string][] = [
  ["j / k", "Next / previous conversation"],
  ["r", "Focus the reply box"],
  ["n", "Switch to note mode"],
  ["e", "Resolve the conversation"],
  ["a", "Change the assignee"],
  ["/", "Search conversations"],
  ["/word", "In the reply box: a canned response (↑ ↓ to choose, Enter to insert)"],
  ["Ctrl/⌘ + Enter", "Send"],
  ["Esc", "Leave the text field / close"],
  ["?", "Show this help"],
];

export function HelpOverlay() {
  const [open, setOpen] = useState(false);
  useEffect(() => onCommand("toggleHelp", () => setOpen((o) => !o)), []);
  if (!open) return null;
  return (
    <Dialog title="Keyboard shortcuts" onClose={() => setOpen(false)} testId="help-overlay">
      <dl className="shortcuts">
        {SHORTCUTS.map(([k, v]) => (
          <div key={k}>
            <dt>
              <kbd>{k}</kbd>
            </dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <button onClick={() => setOpen(false)} data-autofocus>
        Close
      </button>
    </Dialog>
  );
}
