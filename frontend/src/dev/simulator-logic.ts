/**
 * Pure helpers for the "customer simulator" drawer (development / demo only).
 *
 * `GET /api/v1/simulate/` answers `{"channels": {"sms": ["sender", "to", "text", ...], ...}}`: the
 * option names (argparse dests) of each channel's `manage.py simulate <channel>` command.
 * `POST /api/v1/simulate/` takes `{"channel", "options": {name: string}}`; empty strings are skipped
 * by the server, so the command's own default applies.
 */
import type { Inbox } from "../api/types";

export type SimulatorChannels = Record<string, string[]>;
export type SimulatorOptions = Record<string, string>;

/**
 * Options the drawer cannot express: file paths on the server (`media`) and on/off flags
 * (`reply_to_last`), which the endpoint would pass as `--flag value`.
 */
export const HIDDEN_OPTIONS = new Set(["media", "reply_to_last"]);

const ORDER = ["sender", "name", "to", "subject", "text", "html"];

const LABELS: Record<string, string> = {
  sender: "From (customer)",
  name: "Customer name",
  to: "To (inbox address)",
  subject: "Subject",
  text: "Message",
  html: "HTML alternative",
  sid: "Provider message id",
};

export const SAMPLE_TEXTS = [
  "Hi! My order #1042 still hasn't arrived. Can you check?",
  "Hello, can I change the delivery address of my order?",
  "Thanks for the quick help yesterday, everything works now.",
  "Is the shop open on Sunday?",
];

/** Fallback inbox addresses / senders per channel (the simulate commands' own defaults, or the demo's). */
const DEFAULTS: Record<string, SimulatorOptions> = {
  simulator: { sender: "customer-1", name: "Casey Customer", to: "demo" },
  sms: { sender: "+15558675310", to: "+15017122661" },
  email: { sender: "alice@example.org", name: "Alice Example", subject: "Hello" },
};

export function fieldLabel(name: string): string {
  return LABELS[name] ?? name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** The fields to show for a channel, in a stable, friendly order. */
export function visibleFields(fields: string[]): string[] {
  const shown = fields.filter((f) => !HIDDEN_OPTIONS.has(f));
  const rank = (f: string) => {
    const i = ORDER.indexOf(f);
    return i < 0 ? ORDER.length : i;
  };
  return [...shown].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The inbox channel a simulator posts to, where its name differs (`simulate google`). */
const INBOX_CHANNEL: Record<string, string> = { google: "google_business" };

export function inboxChannel(simulator: string): string {
  return INBOX_CHANNEL[simulator] ?? simulator;
}

/** Initial values: the channel's defaults, the address of an existing inbox of that channel, a sample text. */
export function defaultOptions(channel: string, fields: string[], inboxes: Inbox[], sample = 0): SimulatorOptions {
  const base = DEFAULTS[channel] ?? {};
  const inbox = inboxes.find((i) => i.channel === inboxChannel(channel) && i.address);
  const out: SimulatorOptions = {};
  for (const f of visibleFields(fields)) {
    if (f === "to" && inbox) out[f] = inbox.address;
    else if (f === "text") out[f] = SAMPLE_TEXTS[sample % SAMPLE_TEXTS.length]!;
    else out[f] = base[f] ?? "";
  }
  return out;
}

/** The POST body: only the channel's known, visible options. */
export function simulatePayload(channel: string, fields: string[], values: SimulatorOptions) {
  const options: SimulatorOptions = {};
  for (const f of visibleFields(fields)) options[f] = (values[f] ?? "").trim();
  return { channel, options };
}
