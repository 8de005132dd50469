import { useEffect, useState } from "react";
import { api, errorText } from "../api/client";
import type { ConversationFilter, SearchPage, SearchResult } from "../api/types";
import { channelLabel, fullTime, relativeTime } from "../ui/format";
import { ChannelIcon } from "../ui/icons";
import { navigate } from "../ui/router";
import { useNow } from "../ui/useNow";
import { searchTargetQuery } from "./highlight";

/** What a search finds in messages, below the conversations the list finds by contact and subject:
 * matching contacts, then conversations by relevance and recency, each with its best message's snippet
 * (the server's escaped HTML: only <mark> elements in it). `onCount` hears how many conversations matched. */
export function SearchResults({ filter, selectedId, onCount }: {
  filter: ConversationFilter; selectedId: number | null; onCount: (count: number | null) => void;
}) {
  const [page, setPage] = useState<SearchPage | null>(null);
  const [more, setMore] = useState<SearchResult[]>([]);
  const [error, setError] = useState<string | null>(null);
  const now = useNow(30_000);
  const key = JSON.stringify(filter);

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    onCount(null);
    api.search(filter, abort.signal).then(
      (p) => {
        setPage(p);
        setMore([]);
        onCount(p.count);
      },
      (e) => {
        if (!abort.signal.aborted) setError(errorText(e));
      },
    );
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const loadMore = async (next: string) => {
    const p = await api.search(next);
    setMore((m) => [...m, ...p.results]);
    setPage((old) => (old ? { ...old, next: p.next } : p));
  };

  if (error) return <div className="empty error" role="alert">Search failed: {error}</div>;
  if (!page) return <div className="empty">Searching…</div>;
  // Nothing in messages either: the list above says so, with its way out.
  if (page.count === 0 && page.contacts.length === 0 && page.hints.length === 0) return null;
  const results = [...page.results, ...more];
  return (
    <div className="search-results" data-testid="search-results" role="list" aria-label="Search results">
      {page.contacts.length > 0 && (
        <div className="search-contacts" aria-label="Matching contacts">
          {page.contacts.map(({ contact, identities }) => (
            <a key={contact.id} href={`/contacts/${contact.id}`} className="search-contact" data-testid="search-contact"
               onClick={(e) => { e.preventDefault(); navigate(`/contacts/${contact.id}`); }}>
              <span className="avatar">{contact.avatar_initials}</span>
              <span className="row-name">{contact.name || "Unknown contact"}</span>
              {identities.map((i) => <span key={i.id} className="pill muted">{i.value}</span>)}
            </a>
          ))}
        </div>
      )}
      <div className="search-count muted small" data-testid="search-count">
        {page.count === 0 ? "No messages match." : `In messages: ${page.count}${page.count_capped ? "+" : ""} conversation${page.count === 1 ? "" : "s"}`}
      </div>
      {page.hints.map((h) => <div key={h} className="search-hint muted small" role="note">{h}</div>)}
      {results.map((r) => {
        const c = r.conversation;
        const href = `/conversations/${c.id}${searchTargetQuery(r.match.message_id, r.match.words)}`;
        return (
          <a key={c.id} role="listitem" href={href} data-testid="search-result" data-conversation-id={c.id}
             className={`row search-row${c.id === selectedId ? " selected" : ""}`}
             onClick={(e) => { if (e.metaKey || e.ctrlKey || e.shiftKey) return; e.preventDefault(); navigate(href); }}>
            <span className={`chan chan-${r.match.channel}`} title={channelLabel(r.match.channel)}>
              <ChannelIcon channel={r.match.channel} size={15} />
            </span>
            <span className="row-main">
              <span className="row-top">
                <span className="row-name">{c.contact.name || "Unknown contact"}</span>
                <time className="row-time" dateTime={r.match.created_at} title={fullTime(r.match.created_at)}>
                  {relativeTime(r.match.created_at, now)}
                </time>
              </span>
              {/* The server escapes the text and adds only <mark> (search/selectors.py). */}
              <span className="search-snippet" data-testid="search-snippet" dangerouslySetInnerHTML={{ __html: r.match.snippet_html }} />
            </span>
          </a>
        );
      })}
      {page.next && (
        <button type="button" className="link loading-more" onClick={() => void loadMore(page.next!)}>
          More results
        </button>
      )}
    </div>
  );
}
