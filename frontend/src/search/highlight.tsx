import { Fragment } from "react";

/** The message a search result opened, and the words to mark in it: `?message=ID&highlight=a,b`. */
export interface SearchTarget {
  messageId: number;
  words: string[];
}

export function searchTarget(search = window.location.search): SearchTarget | null {
  const params = new URLSearchParams(search);
  const messageId = Number(params.get("message"));
  if (!messageId) return null;
  const words = (params.get("highlight") ?? "").split(",").map((w) => w.trim()).filter(Boolean);
  return { messageId, words };
}

export function searchTargetQuery(messageId: number, words: string[]): string {
  return `?${new URLSearchParams({ message: String(messageId), highlight: words.join(",") })}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `text` with each of `words` (as the search matched them) in a <mark>; text stays text. */
export function Highlighted({ text, words }: { text: string; words: string[] }) {
  if (!words.length || !text) return <>{text}</>;
  const pattern = new RegExp(`(${words.map(escapeRegExp).join("|")})`, "giu");
  const parts = text.split(pattern);
  return (
    <>
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          <mark key={i} className="search-mark" data-testid="search-mark">
            {part}
          </mark>
        ) : (
          <Fragment key={i}>{part}</Fragment>
        ),
      )}
    </>
  );
}
