/** The conversation list's filters under the search box, each one `FilterSelect`. */
import type { Channel, ConversationFilter, ConversationStatus, Me, Priority } from "../api/types";
import { channelLabel } from "../ui/format";
import { useMeta } from "./meta";

interface FilterOption {
  value: string;
  label: string;
}

const STATUSES: FilterOption[] = [
  { value: "open", label: "Open" },
  { value: "pending", label: "Pending" },
  { value: "snoozed", label: "Snoozed" },
  { value: "resolved", label: "Resolved" },
  { value: "", label: "Any status" },
];

const CHANNELS: FilterOption[] = (["", "sms", "email", "voice", "google_business", "simulator"] as const).map((c) => ({
  value: c,
  label: c ? channelLabel(c) : "All channels",
}));

const PRIORITIES: FilterOption[] = [
  { value: "", label: "Any priority" },
  { value: "urgent", label: "Urgent" },
  { value: "high", label: "High" },
  { value: "medium", label: "Medium" },
  { value: "low", label: "Low" },
  { value: "none", label: "No priority" },
];

export function ListFilters({ me, filter, onChange }: { me: Me; filter: ConversationFilter; onChange: (patch: Partial<ConversationFilter>) => void }) {
  const inboxes = useMeta((m) => m.inboxes);
  const labels = useMeta((m) => m.labels);
  const agents = useMeta((m) => m.agents);
  const assignable = agents.filter((a) => a.role !== "marketer");
  return (
    <>
      <div className="filters">
        <FilterSelect
          name="Status"
          testId="status-filter"
          value={filter.status ?? ""}
          options={STATUSES}
          onChange={(v) => onChange({ status: v as ConversationStatus | "" })}
        />
        <FilterSelect
          name="Channel"
          testId="channel-filter"
          value={filter.channel ?? ""}
          options={CHANNELS}
          onChange={(v) => onChange({ channel: v as Channel | "" })}
        />
      </div>
      <div className="filters filters-more" role="group" aria-label="More filters">
        <FilterSelect
          name="Inbox"
          testId="inbox-filter"
          value={String(filter.inbox ?? "")}
          options={[{ value: "", label: "All inboxes" }, ...inboxes.map((i) => ({ value: String(i.id), label: i.name }))]}
          unknown={(v) => `Inbox #${v}`}
          onChange={(v) => onChange({ inbox: v ? Number(v) : "" })}
        />
        <FilterSelect
          name="Label"
          testId="label-filter"
          value={filter.label ?? ""}
          options={[{ value: "", label: "Any label" }, ...labels.map((l) => ({ value: l.name, label: l.name }))]}
          onChange={(v) => onChange({ label: v })}
        />
        <FilterSelect
          name="Assignee"
          testId="assignee-filter"
          value={String(filter.assignee ?? "")}
          options={[
            { value: "", label: "Any assignee" },
            { value: "none", label: "Unassigned" },
            ...assignable.map((a) => ({ value: String(a.id), label: a.id === me.id ? `${a.name} (you)` : a.name })),
          ]}
          unknown={(v) => `Agent #${v}`}
          onChange={(v) => onChange({ assignee: v === "" || v === "none" ? v : Number(v) })}
        />
        <FilterSelect
          name="Priority"
          testId="priority-filter"
          value={filter.priority ?? ""}
          options={PRIORITIES}
          onChange={(v) => onChange({ priority: v as Priority | "" })}
        />
      </div>
    </>
  );
}

/**
 * One filter as a select. A current value that is not among the options (a deep link, a deleted inbox or
 * label, an agent from another team) stays listed, as `unknown(value)` or as itself, rather than the select
 * showing another choice than the list is filtered by.
 */
function FilterSelect({
  name,
  testId,
  value,
  options,
  unknown,
  onChange,
}: {
  /** "Status" → "Status filter" for screen readers. */
  name: string;
  testId: string;
  value: string;
  options: FilterOption[];
  unknown?: (value: string) => string;
  onChange: (value: string) => void;
}) {
  const listed = options.some((o) => o.value === value) ? options : [...options, { value, label: unknown?.(value) ?? value }];
  return (
    <select aria-label={`${name} filter`} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
      {listed.map((o) => (
        <option key={o.value} value={o.value}>
          {o.label}
        </option>
      ))}
    </select>
  );
}
