import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Contact } from "../api/types";

/** Search box + results list for choosing a contact. */
export function ContactPicker({
  onPick,
  exclude,
  label = "Search contacts",
  autoFocus,
}: {
  onPick: (c: Contact) => void;
  exclude?: number;
  label?: string;
  autoFocus?: boolean;
}) {
  const [q, setQ] = useState("");
  const [results, setResults] = useState<Contact[]>([]);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    if (!q.trim()) {
      setResults([]);
      return;
    }
    let cancelled = false;
    setLoading(true);
    const t = setTimeout(async () => {
      try {
        const page = await api.contacts(q.trim());
        if (!cancelled) setResults(page.results.filter((c) => c.id !== exclude));
      } catch {
        if (!cancelled) setResults([]);
      } finally {
        if (!cancelled) setLoading(false);
      }
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [q, exclude]);

  return (
    <div className="contact-picker">
      <input
        type="search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        placeholder="Name, phone or email"
        aria-label={label}
        autoFocus={autoFocus}
        data-testid="contact-picker-input"
      />
      {loading && <div className="muted small">Searching…</div>}
      {!loading && q.trim() && results.length === 0 && <div className="muted small">No matching contacts.</div>}
      <ul className="picker-results">
        {results.map((c) => (
          <li key={c.id}>
            <button type="button" className="link" onClick={() => onPick(c)} data-testid="contact-picker-result" data-contact-id={c.id}>
              <strong>{c.name || "Unnamed"}</strong>{" "}
              <span className="muted small">{c.identities.map((i) => i.value).join(", ")}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
