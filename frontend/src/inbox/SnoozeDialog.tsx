import { useState } from "react";
import { Dialog } from "../ui/Dialog";

export function snoozePresets(now = new Date()): { label: string; at: Date }[] {
  const inHours = (h: number) => new Date(now.getTime() + h * 3600_000);
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const nextWeek = new Date(now);
  nextWeek.setDate(now.getDate() + ((8 - now.getDay()) % 7 || 7));
  nextWeek.setHours(9, 0, 0, 0);
  return [
    { label: "1 hour", at: inHours(1) },
    { label: "4 hours", at: inHours(4) },
    { label: "Tomorrow 9:00", at: tomorrow },
    { label: "Next Monday 9:00", at: nextWeek },
  ];
}

/** "Snooze until…": a preset, or a date and time of the agent's choosing (which must be in the future). */
export function SnoozeDialog({ onSnooze, onClose }: { onSnooze: (until: Date) => void; onClose: () => void }) {
  const [custom, setCustom] = useState("");
  const at = custom ? new Date(custom) : null;
  const past = at !== null && at.getTime() <= Date.now();
  return (
    <Dialog title="Snooze until…" onClose={onClose} testId="snooze-dialog">
      <p className="muted small">The conversation leaves the Open list and comes back by itself at that time, or sooner if the customer writes.</p>
      <div className="snooze-presets">
        {snoozePresets().map((p, i) => (
          <button key={p.label} onClick={() => onSnooze(p.at)} data-autofocus={i === 0 ? true : undefined}>
            {p.label}
          </button>
        ))}
      </div>
      <label className="field">
        <span>Or pick a date and time</span>
        <input
          type="datetime-local"
          value={custom}
          onChange={(e) => setCustom(e.target.value)}
          aria-invalid={past || undefined}
          aria-describedby={past ? "snooze-past" : undefined}
          data-testid="snooze-input"
        />
      </label>
      {past && (
        <p className="form-error small" id="snooze-past" role="alert">
          That time has already passed: pick a later one.
        </p>
      )}
      <div className="row-buttons">
        <button className="primary" disabled={!at || past} onClick={() => at && onSnooze(at)} data-testid="snooze-confirm">
          Snooze
        </button>
        <button onClick={onClose}>Cancel</button>
      </div>
    </Dialog>
  );
}
