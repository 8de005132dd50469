import { useEffect, useRef, useState } from "react";
import type { Conversation, ConversationStatus, Priority } from "../api/types";
import { fullTime } from "../ui/format";
import { patchConversation, resolveConversation } from "./actions";
import { useMeta } from "./meta";
import { Icon } from "../ui/icons";
import { onCommand } from "../ui/commands";
import { SnoozeDialog } from "./SnoozeDialog";

const PRIORITIES: Priority[] = ["none", "low", "medium", "high", "urgent"];

export function ConversationActions({ conversation: c }: { conversation: Conversation }) {
  const agents = useMeta((m) => m.agents);
  const teams = useMeta((m) => m.teams);
  const labels = useMeta((m) => m.labels);
  const [snoozeOpen, setSnoozeOpen] = useState(false);
  const assigneeRef = useRef<HTMLSelectElement>(null);

  useEffect(() => onCommand("focusAssignee", () => assigneeRef.current?.focus()), []);

  const snooze = (at: Date) => {
    setSnoozeOpen(false);
    void patchConversation(c.id, { status: "snoozed", snoozed_until: at.toISOString() });
  };

  const assigneeKnown = !c.assignee || agents.some((a) => a.id === c.assignee!.id);
  const teamKnown = !c.team || teams.some((t) => t.id === c.team!.id);

  return (
    <div className="actions" aria-label="Conversation actions" role="group">
      <label className="field">
        <span>Assignee</span>
        <select
          ref={assigneeRef}
          value={c.assignee?.id ?? ""}
          onChange={(e) => void patchConversation(c.id, { assignee: e.target.value ? Number(e.target.value) : null })}
          aria-label="Assignee"
          data-testid="assignee-select"
        >
          <option value="">Unassigned</option>
          {!assigneeKnown && c.assignee && <option value={c.assignee.id}>{c.assignee.name}</option>}
          {agents
            .filter((a) => a.role !== "marketer")
            .map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
        </select>
      </label>
      <label className="field">
        <span>Team</span>
        <select
          value={c.team?.id ?? ""}
          onChange={(e) => void patchConversation(c.id, { team: e.target.value ? Number(e.target.value) : null })}
          aria-label="Team"
          data-testid="team-select"
        >
          <option value="">No team</option>
          {!teamKnown && c.team && <option value={c.team.id}>{c.team.name}</option>}
          {teams.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Status</span>
        <select
          value={c.status}
          onChange={(e) => {
            const v = e.target.value as ConversationStatus;
            if (v === "snoozed") setSnoozeOpen(true);
            else void patchConversation(c.id, { status: v });
          }}
          aria-label="Status"
          data-testid="status-select"
          title={c.status === "snoozed" && c.snoozed_until ? `Snoozed until ${fullTime(c.snoozed_until)}` : undefined}
        >
          <option value="open">Open</option>
          <option value="pending">Pending</option>
          <option value="snoozed">{c.status === "snoozed" ? "Snoozed" : "Snooze until…"}</option>
          <option value="resolved">Resolved</option>
        </select>
      </label>
      <label className="field">
        <span>Priority</span>
        <select
          value={c.priority}
          onChange={(e) => void patchConversation(c.id, { priority: e.target.value as Priority })}
          aria-label="Priority"
          data-testid="priority-select"
        >
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p === "none" ? "No priority" : p[0]!.toUpperCase() + p.slice(1)}
            </option>
          ))}
        </select>
      </label>
      <details className="labels-picker">
        <summary aria-label={c.labels.length ? `Labels: ${c.labels.join(", ")}` : "Labels"} data-testid="labels-button">
          <Icon name="label" /> {c.labels.length ? c.labels.join(", ") : "Labels"}
        </summary>
        <div className="popover" role="group" aria-label="Labels">
          {labels.length === 0 && <p className="muted small">No labels defined yet (an admin can add them).</p>}
          {labels.map((l) => {
            const on = c.labels.includes(l.name);
            return (
              <label key={l.id} className="check">
                <input
                  type="checkbox"
                  checked={on}
                  onChange={() =>
                    void patchConversation(c.id, { labels: on ? c.labels.filter((x) => x !== l.name) : [...c.labels, l.name] })
                  }
                  data-testid={`label-toggle-${l.name}`}
                />
                <span className="swatch" style={{ background: l.color || "#999" }} /> {l.name}
              </label>
            );
          })}
        </div>
      </details>
      {c.status !== "resolved" ? (
        <button className="primary" onClick={() => void resolveConversation(c)} data-testid="resolve-button" title="Resolve (e)">
          <Icon name="check" /> Resolve
        </button>
      ) : (
        <button onClick={() => void patchConversation(c.id, { status: "open" })} data-testid="reopen-button">
          Reopen
        </button>
      )}
      {snoozeOpen && <SnoozeDialog onSnooze={snooze} onClose={() => setSnoozeOpen(false)} />}
    </div>
  );
}
