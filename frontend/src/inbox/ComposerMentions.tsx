/**
 * The composer's mentions part: the lists that pop over the text box, colleagues to @mention in a note and
 * canned responses for a "/shortcut". At most one is open (a mention needs "@" after a space, a shortcut is
 * "/word" alone), with one highlighted option and the same keys (picker.ts).
 */
import { type KeyboardEvent, useMemo, useState } from "react";
import type { Agent, CannedResponse, ID } from "../api/types";
import { activeMentionQuery, insertMention, matchAgents, mentionIdsInText, type MentionRef } from "./mentions";
import { useMeta } from "./meta";
import { cannedMatches, pickerKey } from "./picker";
import { SuggestionList, optionId } from "./SuggestionList";

type OpenList =
  | { kind: "mention"; id: string; items: Agent[]; dismiss: () => void }
  | { kind: "canned"; id: string; items: CannedResponse[]; dismiss: () => void };

export interface Suggestions {
  open: OpenList | null;
  /** The highlighted option of the open list. */
  active: number;
  hover: (index: number) => void;
  chooseMention: (agent: Agent) => void;
  chooseCanned: (canned: CannedResponse) => void;
  /** Tell the lists the text changed by typing. */
  typed: (text: string) => void;
  /** A key pressed in the text box: true when it was for the open list (and is handled). */
  keyDown: (e: KeyboardEvent) => boolean;
  /** The text box's aria-* attributes that point at the open list. */
  inputProps: {
    "aria-autocomplete": "list";
    "aria-expanded": boolean;
    "aria-controls": string | undefined;
    "aria-activedescendant": string | undefined;
  };
  /** The picked colleagues still named in `text`: whom a note mentions. */
  mentionIds: (text: string) => ID[];
  /** After a send. */
  clear: () => void;
}

export function useSuggestions({
  listId,
  note,
  text,
  caret,
  meId,
  replace,
}: {
  /** Makes the lists' element ids unique on the page. */
  listId: string;
  /** Mentions are for notes only. */
  note: boolean;
  text: string;
  caret: number;
  meId: ID;
  /** Put `text` in the box with the caret at `caret`, and the focus there. */
  replace: (text: string, caret: number) => void;
}): Suggestions {
  const canned = useMeta((m) => m.canned);
  const agents = useMeta((m) => m.agents);
  const [picked, setPicked] = useState<MentionRef[]>([]);
  const [index, setIndex] = useState(0);
  /** The "@" position the user dismissed the mention list for (Esc), so it stays closed for that one. */
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  /** The "/shortcut" text the user dismissed the canned list for (Esc). */
  const [cannedDismissed, setCannedDismissed] = useState<string | null>(null);

  const mentionQuery = note ? activeMentionQuery(text, caret, picked.map((p) => p.name)) : null;
  const mentionMatches = useMemo(
    () => (mentionQuery && mentionQuery.start !== dismissedAt ? matchAgents(agents, mentionQuery.query, meId) : []),
    [mentionQuery?.start, mentionQuery?.query, dismissedAt, agents, meId], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const cannedOffered = text === cannedDismissed ? [] : cannedMatches(text, canned);

  const open: OpenList | null = mentionMatches.length
    ? { kind: "mention", id: `mention-listbox-${listId}`, items: mentionMatches, dismiss: () => setDismissedAt(mentionQuery!.start) }
    : cannedOffered.length
      ? { kind: "canned", id: `canned-listbox-${listId}`, items: cannedOffered, dismiss: () => setCannedDismissed(text) }
      : null;
  const active = Math.min(index, Math.max(0, (open?.items.length ?? 1) - 1));

  const chooseMention = (agent: Agent) => {
    if (!mentionQuery) return;
    const next = insertMention(text, mentionQuery, caret, agent);
    const name = agent.name?.trim() || agent.email;
    setPicked((p) => (p.some((x) => x.id === agent.id) ? p : [...p, { id: agent.id, name }]));
    setIndex(0);
    replace(next.text, next.caret);
  };
  const chooseCanned = (c: CannedResponse) => {
    setIndex(0);
    replace(c.text, c.text.length);
  };

  return {
    open,
    active,
    hover: setIndex,
    chooseMention,
    chooseCanned,
    typed: (value) => {
      setIndex(0);
      if (dismissedAt !== null && value[dismissedAt] !== "@") setDismissedAt(null);
    },
    keyDown: (e) => {
      const action = open && pickerKey(e, active, open.items.length);
      if (!action) return false;
      if (action.type === "move") setIndex(action.index);
      else if (action.type === "dismiss") open.dismiss();
      else if (open.kind === "mention") chooseMention(open.items[active]!);
      else chooseCanned(open.items[active]!);
      return true;
    },
    inputProps: {
      "aria-autocomplete": "list",
      "aria-expanded": !!open,
      "aria-controls": open?.id,
      "aria-activedescendant": open ? optionId(open.id, open.items[active]!) : undefined,
    },
    mentionIds: (value) => mentionIdsInText(value, picked),
    clear: () => setPicked([]),
  };
}

/** The open list, if any, above the text box. */
export function SuggestionPopup({ suggestions: s }: { suggestions: Suggestions }) {
  const { open } = s;
  if (open?.kind === "mention")
    return (
      <SuggestionList
        id={open.id}
        label="Mention a colleague"
        items={open.items}
        active={s.active}
        onChoose={s.chooseMention}
        onHover={s.hover}
        testId="mention-picker"
        optionTestId="mention-option"
      >
        {(a) => (
          <>
            <span className="avatar" aria-hidden="true">
              {(a.name || a.email).slice(0, 1).toUpperCase()}
            </span>
            <span className="mention-name">{a.name || a.email}</span>
            <span className="mention-meta">
              {a.email}
              {a.teams.length ? ` · ${a.teams.map((t) => t.name).join(", ")}` : ""}
              {a.role !== "agent" ? ` · ${a.role}` : ""}
            </span>
          </>
        )}
      </SuggestionList>
    );
  if (open?.kind === "canned")
    return (
      <SuggestionList
        id={open.id}
        label="Canned responses"
        items={open.items}
        active={s.active}
        onChoose={s.chooseCanned}
        onHover={s.hover}
        testId="canned-picker"
        optionTestId="canned-option"
      >
        {(c) => (
          <>
            <strong className="canned-shortcut">/{c.shortcut}</strong>
            <span className="canned-text">{c.text}</span>
          </>
        )}
      </SuggestionList>
    );
  return null;
}
