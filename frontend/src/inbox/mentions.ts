/** @mentions in notes: pure helpers for the composer's picker and the timeline's highlighting. */
import type { Agent, ID, MessageMetadata } from "../api/types";

export interface MentionRef {
  id: ID;
  name: string;
}

export interface MentionQuery {
  /** Index of the "@" in the text. */
  start: number;
  /** What the user typed after "@" (up to the caret). */
  query: string;
}

const MAX_QUERY = 40;

/**
 * The "@word" being typed at `caret`, or null. The "@" must start the text or follow whitespace
 * or an opening bracket (so e-mail addresses like ana@example.com do not open the picker), and
 * the query may contain single spaces ("@Ana Ag") but not a newline or a second "@".
 * `done` are names already inserted: "@Bo Berg " right after picking Bo does not reopen the picker.
 */
export function activeMentionQuery(text: string, caret: number, done: string[] = []): MentionQuery | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf("@");
  if (at < 0) return null;
  const prev = at > 0 ? before[at - 1]! : "";
  if (prev && !/[\s([{"'“‘]/.test(prev)) return null;
  const query = before.slice(at + 1);
  if (query.length > MAX_QUERY || /[\n@]/.test(query) || /\s\s/.test(query) || /^\s/.test(query)) return null;
  if (done.some((name) => query === name || query.startsWith(`${name} `))) return null;
  return { start: at, query };
}

function displayName(a: Pick<Agent, "name" | "email">): string {
  return a.name?.trim() || a.email;
}

/** Agents matching the query (any word of the name, or the e-mail), best matches first. */
export function matchAgents(agents: Agent[], query: string, meId: ID | null, limit = 8): Agent[] {
  const q = query.trim().toLowerCase();
  const scored: { a: Agent; score: number }[] = [];
  for (const a of agents) {
    if (a.id === meId) continue;
    const name = displayName(a).toLowerCase();
    const email = a.email.toLowerCase();
    let score: number;
    if (!q) score = 3;
    else if (name.startsWith(q)) score = 0;
    else if (name.split(/\s+/).some((w) => w.startsWith(q))) score = 1;
    else if (email.startsWith(q) || name.includes(q)) score = 2;
    else continue;
    scored.push({ a, score });
  }
  scored.sort((x, y) => x.score - y.score || displayName(x.a).localeCompare(displayName(y.a)));
  return scored.slice(0, limit).map((s) => s.a);
}

/** Replace the "@query" at `q.start..caret` with "@Name " and return the new text and caret. */
export function insertMention(text: string, q: MentionQuery, caret: number, agent: Pick<Agent, "name" | "email">): { text: string; caret: number } {
  const token = `@${displayName(agent)} `;
  const rest = text.slice(caret).replace(/^ /, "");
  const next = text.slice(0, q.start) + token + rest;
  return { text: next, caret: q.start + token.length };
}

/** The picked colleagues whose "@Name" is still in the text (deleting the text drops the mention). */
export function mentionIdsInText(text: string, picked: MentionRef[]): ID[] {
  const ids: ID[] = [];
  for (const m of picked) {
    if (!ids.includes(m.id) && text.includes(`@${m.name}`)) ids.push(m.id);
  }
  return ids;
}

/** `metadata.mentions` of a note, validated. */
export function messageMentions(metadata: MessageMetadata | null | undefined): MentionRef[] {
  const raw = metadata?.mentions;
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (m): m is MentionRef => !!m && typeof m === "object" && typeof (m as MentionRef).id === "number" && typeof (m as MentionRef).name === "string" && !!(m as MentionRef).name,
  );
}

export type Segment = { text: string } | { text: string; mention: MentionRef };

/** Split `text` so every "@Name" of a mentioned colleague can be highlighted (longest names first). */
export function splitMentions(text: string, mentions: MentionRef[]): Segment[] {
  if (!mentions.length || !text) return [{ text }];
  const sorted = [...mentions].sort((a, b) => b.name.length - a.name.length);
  const out: Segment[] = [];
  let i = 0;
  let plain = "";
  while (i < text.length) {
    const hit = text[i] === "@" ? sorted.find((m) => text.startsWith(`@${m.name}`, i)) : undefined;
    if (hit) {
      if (plain) out.push({ text: plain });
      plain = "";
      out.push({ text: `@${hit.name}`, mention: hit });
      i += hit.name.length + 1;
    } else {
      plain += text[i];
      i++;
    }
  }
  if (plain) out.push({ text: plain });
  return out;
}
