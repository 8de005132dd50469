import { useEffect, useState } from "react";
import { onCommand } from "./commands";

export const SHORTCUTS: [string, string][] = [
  ["j / k", "Next / previous conversation"],
  ["r", "Focus the reply box"],
  ["n", "Switch to note mode"],
  ["e", "Resolve the conversation"],
  ["a", "Change the assignee"],
  ["/", "Search conversations"],
  ["Ctrl/⌘ + Enter", "Send"],
  ["Esc", "Leave the text field / close"],
  ["?", "Show this help"],
];

export function HelpOverlay() {
  const [open, setOpen] = useState(false);
  useEffect(() => onCommand("toggleHelp", () => setOpen((o) => !o)), []);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setOpen(false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);
  if (!open) return null;
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title" data-testid="help-overlay" onClick={() => setOpen(false)}>
      <div className="overlay-card" onClick={(e) => e.stopPropagation()}>
        <h2 id="help-title">Keyboard shortcuts</h2>
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
        <button onClick={() => setOpen(false)} autoFocus>
          Close
        </button>
      </div>
    </div>
  );
}
