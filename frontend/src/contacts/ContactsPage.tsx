import { useCallback, useEffect, useRef, useState, type ComponentProps } from "react";
import { api, errorText } from "../api/client";
import type { Contact, Message } from "../api/types";
import { ContactDetails } from "../inbox/ContactDetails";
import { CONTACT_DRAWER_QUERY, ContactAside, ContactToggle } from "../inbox/ContactPanel";
import { useMeta } from "../inbox/meta";
import { VirtualTimeline } from "../inbox/Timeline";
import { useInbox } from "../live";
import { navigate } from "../ui/router";
import { showToast } from "../ui/toast";
import { useMediaQuery } from "../ui/useMediaQuery";

export default function ContactsPage({ contactId }: { contactId: number | null }) {
  const me = useInbox((s) => s.me);
  const [q, setQ] = useState("");
  const [label, setLabel] = useState("");
  const labels = useMeta((m) => m.labels);
  const [results, setResults] = useState<Contact[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<Contact | null>(null);
  const narrow = useMediaQuery(CONTACT_DRAWER_QUERY);
  const [detailsOpen, setDetailsOpen] = useState(false);
  const detailsToggle = useRef<HTMLButtonElement>(null);
  useEffect(() => setDetailsOpen(false), [contactId, narrow]);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    const t = setTimeout(async () => {
      try {
        const page = await api.contacts(q.trim() || null, null, label);
        if (cancelled) return;
        setResults(page.results);
        setNext(page.next);
      } catch (e) {
        if (!cancelled) showToast(`Could not search contacts: ${errorText(e)}`);
      } finally {
        if (!cancelled) setLoading(false);
      }
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [q, label]);

  useEffect(() => {
    if (contactId === null) return setSelected(null);
    let cancelled = false;
    api
      .contact(contactId)
      .then((c) => !cancelled && setSelected(c))
      .catch((e) => showToast(`Could not load contact: ${errorText(e)}`));
    return () => {
      cancelled = true;
    };
  }, [contactId]);

  const onChange = (c: Contact) => {
    setSelected(c);
    setResults((rows) => rows.map((r) => (r.id === c.id ? c : r)));
  };

  const more = async () => {
    if (!next) return;
    const page = await api.contacts(null, next);
    setResults((r) => [...r, ...page.results]);
    setNext(page.next);
  };

  return (
    <div className="contacts-page" data-testid="contacts-page">
      <section className="pane list-pane" aria-label="Contacts">
        <div className="list-head">
          <input
            type="search"
            className="search"
            autoFocus
            placeholder="Search name, phone, email"
            aria-label="Search contacts"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            data-testid="contacts-search"
          />
          <select aria-label="Label filter" value={label} onChange={(e) => setLabel(e.target.value)} data-testid="contacts-label-filter">
            <option value="">Any label</option>
            {labels.map((l) => (
              <option key={l.id} value={l.name}>
                {l.name}
              </option>
            ))}
          </select>
        </div>
        <ul className="contacts-list">
          {results.map((c) => (
            <li key={c.id}>
              <a
                href={`/contacts/${c.id}`}
                className={`row${c.id === contactId ? " selected" : ""}`}
                onClick={(e) => (e.preventDefault(), navigate(`/contacts/${c.id}`))}
                data-testid="contact-row"
                data-contact-id={c.id}
              >
                <span className="row-main">
                  <span className="row-name">{c.name || "Unnamed"}</span>
                  <span className="row-snippet">{c.identities.map((i) => i.value).join(" · ") || "No identities"}</span>
                  {c.labels.length > 0 && (
                    <span className="row-meta">
                      {c.labels.map((l) => (
                        <span key={l} className="pill label">
                          {l}
                        </span>
                      ))}
                    </span>
                  )}
                </span>
                <span className="muted small">{c.conversations_count} conv.</span>
              </a>
            </li>
          ))}
        </ul>
        {!loading && results.length === 0 && (
          <div className="empty">{q || label ? `No contacts match${q ? ` “${q}”` : ""}${label ? ` with the label ${label}` : ""}.` : "No contacts yet."}</div>
        )}
        {next && (
          <button className="link" onClick={() => void more()}>
            Load more
          </button>
        )}
      </section>
      <section className="pane conversation-pane" aria-label="Contact timeline">
        {selected ? (
          <ContactTimeline
            contact={selected}
            detailsToggle={narrow ? { open: detailsOpen, onToggle: () => setDetailsOpen((open) => !open), ref: detailsToggle } : undefined}
          />
        ) : (
          <div className="empty">Search and select a contact to see their unified timeline.</div>
        )}
      </section>
      {selected && (!narrow || detailsOpen) && (
        <ContactAside
          drawer={
            narrow
              ? {
                  onClose: () => {
                    setDetailsOpen(false);
                    detailsToggle.current?.focus();
                  },
                }
              : undefined
          }
        >
          <ContactDetails contact={selected} canEdit={!!me?.can_reply} onChange={onChange} />
        </ContactAside>
      )}
    </div>
  );
}

function ContactTimeline({ contact, detailsToggle }: { contact: Contact; detailsToggle?: ComponentProps<typeof ContactToggle> }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [older, setOlder] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loading, setLoading] = useState(false);
  const busy = useRef(false);

  const load = useCallback(
    async (cursor: string | null) => {
      if (busy.current) return;
      busy.current = true;
      setLoading(true);
      try {
        const page = await api.timeline(contact.id, cursor);
        setMessages((m) => {
          const have = new Set(cursor ? m.map((x) => x.id) : []);
          return [...[...page.results].reverse().filter((x) => !have.has(x.id)), ...(cursor ? m : [])];
        });
        setOlder(page.next);
        setLoaded(true);
      } finally {
        busy.current = false;
        setLoading(false);
      }
    },
    [contact.id],
  );

  useEffect(() => {
    setLoaded(false);
    setMessages([]);
    load(null).catch((e) => showToast(`Could not load timeline: ${errorText(e)}`));
  }, [load, contact.merged_from.length]);

  return (
    <div className="conversation">
      <header className="conv-head">
        <div className="conv-title">
          <div className="conv-title-row">
            <h2 title={contact.name}>{contact.name}</h2>
            {detailsToggle && <ContactToggle {...detailsToggle} />}
          </div>
          <span className="muted conv-meta">Unified timeline across all channels</span>
        </div>
      </header>
      <VirtualTimeline
        key={`${contact.id}-${contact.merged_from.length}`}
        messages={messages}
        older={!!older}
        loading={loading}
        loaded={loaded}
        onLoadOlder={() => {
          if (older) load(older).catch((e) => void showToast(`Could not load older messages: ${errorText(e)}`));
        }}
        contactName={contact.name}
        currentConversationId={-1}
        emptyText="No messages with this contact yet."
      />
    </div>
  );
}
