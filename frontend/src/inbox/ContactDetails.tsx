import { useEffect, useId, useRef, useState } from "react";
import { api, errorText } from "../api/client";
import type { Contact, Conversation, IdentityKind } from "../api/types";
import { labelFromInput, labelSuggestions, withLabel, withoutLabel } from "../contacts/labels";
import { ContactPicker } from "../ui/ContactPicker";
import { channelLabel, relativeTime } from "../ui/format";
import { ChannelIcon, Icon } from "../ui/icons";
import { navigate } from "../ui/router";
import { showToast } from "../ui/toast";
import { metaStore, useMeta } from "./meta";

const KIND_LABEL: Record<string, string> = { phone: "Phone", email: "Email", google_business: "Google" };

/** The server counts every conversation of the contact but lists only those the reader may see. */
function elsewhere(count: number): string {
  return `${count} more ${count === 1 ? "conversation is" : "conversations are"} with other teams.`;
}

/** Contact card: editable name and labels, identities, other conversations, merge / un-merge. */
export function ContactDetails({
  contact,
  canEdit,
  currentConversationId,
  onChange,
}: {
  contact: Contact;
  canEdit: boolean;
  currentConversationId?: number;
  onChange: (c: Contact) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(contact.name);
  const [convs, setConvs] = useState<Conversation[] | null>(null);
  const [merging, setMerging] = useState(false);
  const [candidate, setCandidate] = useState<Contact | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => setName(contact.name), [contact.name]);
  useEffect(() => {
    let cancelled = false;
    setConvs(null);
    api
      .contactConversations(contact.id)
      .then((cs) => !cancelled && setConvs(cs))
      .catch(() => !cancelled && setConvs([]));
    return () => {
      cancelled = true;
    };
  }, [contact.id, contact.merged_from.length, contact.conversations_count]);

  const saveName = async () => {
    const trimmed = name.trim();
    setEditing(false);
    if (!trimmed || trimmed === contact.name) return setName(contact.name);
    try {
      onChange(await api.patchContact(contact.id, { name: trimmed }));
    } catch (e) {
      setName(contact.name);
      showToast(`Could not rename contact: ${errorText(e)}`);
    }
  };

  const merge = async () => {
    if (!candidate) return;
    setBusy(true);
    try {
      onChange(await api.mergeContact(contact.id, candidate.id));
      setMerging(false);
      setCandidate(null);
    } catch (e) {
      showToast(`Merge failed: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const unmerge = async (mergeId: number) => {
    setBusy(true);
    try {
      onChange(await api.unmergeContact(contact.id, mergeId));
    } catch (e) {
      showToast(`Un-merge failed: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const others = (convs ?? []).filter((c) => c.id !== currentConversationId);

  return (
    <div className="contact-details">
      <div className="contact-name-row">
        {editing ? (
          <input
            value={name}
            autoFocus
            onChange={(e) => setName(e.target.value)}
            onBlur={() => void saveName()}
            onKeyDown={(e) => {
              if (e.key === "Enter") void saveName();
              if (e.key === "Escape") {
                setName(contact.name);
                setEditing(false);
              }
            }}
            aria-label="Contact name"
            data-testid="contact-name-input"
          />
        ) : (
          <h3 data-testid="contact-name">{contact.name || "Unnamed contact"}</h3>
        )}
        {canEdit && !editing && (
          <button className="link" onClick={() => setEditing(true)} aria-label="Edit contact name" data-testid="contact-name-edit">
            <Icon name="pencil" />
          </button>
        )}
      </div>

      <ContactLabels contact={contact} canEdit={canEdit} onChange={onChange} />

      <Identities contact={contact} canEdit={canEdit} onChange={onChange} />

      <h4>Conversations {convs && `(${convs.length})`}</h4>
      {convs === null ? (
        <p className="muted small">Loading…</p>
      ) : others.length === 0 ? (
        contact.conversations_count <= convs.length && <p className="muted small">No other conversations.</p>
      ) : (
        <ul className="other-convs">
          {others.map((c) => (
            <li key={c.id}>
              <a
                href={`/conversations/${c.id}`}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(`/conversations/${c.id}`);
                }}
                data-testid="other-conversation"
              >
                <ChannelIcon channel={c.inbox.channel} /> {channelLabel(c.inbox.channel)} · #{c.id} · {c.status}{" "}
                <span className="muted small">{relativeTime(c.last_message_at)}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
      {convs !== null && contact.conversations_count > convs.length && (
        <p className="muted small" data-testid="conversations-elsewhere">
          {elsewhere(contact.conversations_count - convs.length)}
        </p>
      )}

      {contact.merged_from.length > 0 && (
        <>
          <h4>Merged contacts</h4>
          <ul className="merged">
            {contact.merged_from.map((m) => (
              <li key={m.merge_id}>
                {m.name || `Contact #${m.contact_id}`}{" "}
                {canEdit && (
                  <button className="link" disabled={busy} onClick={() => void unmerge(m.merge_id)} data-testid="unmerge-button">
                    Un-merge
                  </button>
                )}
              </li>
            ))}
          </ul>
        </>
      )}

      {canEdit &&
        (merging ? (
          <div className="merge-box" data-testid="merge-box">
            <h4>Merge another contact into {contact.name || "this contact"}</h4>
            {candidate ? (
              <div>
                <p>
                  Merge <strong>{candidate.name || `#${candidate.id}`}</strong> into <strong>{contact.name}</strong>? Their identities and
                  conversations move here. You can un-merge later.
                </p>
                <div className="row-buttons">
                  <button className="primary" disabled={busy} onClick={() => void merge()} data-testid="merge-confirm">
                    Merge
                  </button>
                  <button onClick={() => setCandidate(null)}>Back</button>
                </div>
              </div>
            ) : (
              <ContactPicker onPick={setCandidate} exclude={contact.id} label="Find contact to merge" autoFocus />
            )}
            <button className="link" onClick={() => (setMerging(false), setCandidate(null))}>
              Cancel
            </button>
          </div>
        ) : (
          <button onClick={() => setMerging(true)} data-testid="merge-button">
            Merge with another contact…
          </button>
        ))}
    </div>
  );
}

/**
 * Every phone, email and Google identity. Agents add one they learned (so replies can go there) or
 * remove a wrong one after confirming; an opted-out one stays, so its opt-out is never lost.
 */
function Identities({ contact, canEdit, onChange }: { contact: Contact; canEdit: boolean; onChange: (c: Contact) => void }) {
  const [adding, setAdding] = useState(false);
  const [kind, setKind] = useState<IdentityKind>("email");
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  const add = async () => {
    setBusy(true);
    setError(null);
    try {
      onChange(await api.addIdentity(contact.id, kind, value.trim()));
      setValue("");
      setAdding(false);
    } catch (e) {
      setError(errorText(e)); // e.g. already another contact's: merge them instead
    } finally {
      setBusy(false);
    }
  };

  const remove = async (identityId: number) => {
    setBusy(true);
    try {
      await api.removeIdentity(contact.id, identityId);
      onChange(await api.contact(contact.id));
    } catch (e) {
      showToast(`Could not remove it: ${errorText(e)}`);
    } finally {
      setBusy(false);
      setConfirming(null);
    }
  };

  return (
    <>
      <h4>Identities</h4>
      {contact.identities.length === 0 && <p className="muted small">No phone, email or Google identity.</p>}
      <ul className="identities">
        {contact.identities.map((i) => (
          <li key={i.id} data-testid="identity" data-opted-out={i.opted_out ? "true" : "false"}>
            <span className="muted small">{KIND_LABEL[i.kind] ?? i.kind}</span> <span className="ident-value">{i.value}</span>
            {i.opted_out && <span className="pill danger" title="This identity opted out (e.g. replied STOP)">opted out</span>}
            {canEdit &&
              !i.opted_out &&
              (confirming === i.id ? (
                <span className="confirm-inline">
                  Remove?{" "}
                  <button className="link" disabled={busy} onClick={() => void remove(i.id)} data-testid="identity-remove-confirm">
                    Yes
                  </button>
                  <button className="link" onClick={() => setConfirming(null)}>
                    No
                  </button>
                </span>
              ) : (
                <button className="link" onClick={() => setConfirming(i.id)} aria-label={`Remove ${i.value}`} data-testid="identity-remove">
                  <Icon name="close" size={12} />
                </button>
              ))}
          </li>
        ))}
      </ul>
      {canEdit &&
        (adding ? (
          <form
            className="identity-add"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              if (value.trim()) void add();
            }}
          >
            <select value={kind} onChange={(e) => setKind(e.target.value as IdentityKind)} aria-label="Kind" data-testid="identity-kind">
              <option value="email">Email</option>
              <option value="phone">Phone</option>
            </select>
            <input
              value={value}
              autoFocus
              onChange={(e) => setValue(e.target.value)}
              type={kind === "email" ? "email" : "tel"}
              placeholder={kind === "email" ? "name@example.com" : "+1 555 010 9999"}
              aria-label={kind === "email" ? "Email address" : "Phone number"}
              aria-invalid={error ? true : undefined}
              data-testid="identity-value"
            />
            <button type="submit" className="primary" disabled={busy || !value.trim()} data-testid="identity-add-save">
              Add
            </button>
            <button type="button" className="link" onClick={() => (setAdding(false), setError(null))}>
              Cancel
            </button>
            {error && (
              <p className="form-error small" role="alert" data-testid="identity-error">
                {error}
              </p>
            )}
          </form>
        ) : (
          <button className="link" onClick={() => setAdding(true)} data-testid="identity-add">
            + Add phone or email
          </button>
        ))}
    </>
  );
}

/**
 * The customer's labels (vip, churn-risk…) as chips; agents remove one with its ×, or type a name
 * (an existing label, or a new one) and press Enter. Shown at once, rolled back if the server refuses.
 */
function ContactLabels({ contact, canEdit, onChange }: { contact: Contact; canEdit: boolean; onChange: (c: Contact) => void }) {
  const knownNames = useMeta((m) => m.labels).map((l) => l.name);
  const [pending, setPending] = useState<string[] | null>(null);
  const [text, setText] = useState("");
  const saving = useRef(false);
  const listId = useId();
  const shown = pending ?? contact.labels;

  const save = async (next: string[]) => {
    // The server takes the whole set: one change at a time, so a slow reply cannot undo a newer one.
    if (saving.current) return;
    saving.current = true;
    setPending(next);
    try {
      const saved = await api.patchContact(contact.id, { labels: next });
      onChange(saved);
      // A label named for the first time now exists: offer it in the filters and pickers too.
      if (saved.labels.some((name) => !knownNames.includes(name))) {
        void api.labels().then((labels) => metaStore.set((m) => ({ ...m, labels })), () => undefined);
      }
    } catch (e) {
      showToast(`Could not change the labels: ${errorText(e)}`);
    } finally {
      saving.current = false;
      setPending(null);
    }
  };

  const add = () => {
    const name = labelFromInput(text, knownNames);
    if (!name || saving.current) return;
    setText("");
    if (!shown.includes(name)) void save(withLabel(shown, name));
  };

  return (
    <section aria-label="Contact labels">
      <h4>Labels</h4>
      {shown.length === 0 && <p className="muted small">{canEdit ? "No labels yet: add vip, churn-risk…" : "No labels."}</p>}
      {shown.length > 0 && (
        <ul className="label-chips" data-testid="contact-labels">
          {shown.map((name) => (
            <li key={name} className="pill label">
              <span data-testid="contact-label">{name}</span>
              {canEdit && (
                <button
                  type="button"
                  className="chip-remove"
                  onClick={() => void save(withoutLabel(shown, name))}
                  aria-label={`Remove label ${name}`}
                  data-testid={`contact-label-remove-${name}`}
                >
                  <Icon name="close" size={12} />
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canEdit && (
        <form
          className="label-add"
          onSubmit={(e) => {
            e.preventDefault();
            add();
          }}
        >
          <input
            value={text}
            onChange={(e) => setText(e.target.value)}
            list={listId}
            placeholder="Add a label…"
            aria-label="Add a label"
            data-testid="contact-label-input"
          />
          <datalist id={listId}>
            {labelSuggestions(knownNames, shown).map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          <button type="submit" disabled={!labelFromInput(text, knownNames)} data-testid="contact-label-add">
            Add
          </button>
        </form>
      )}
    </section>
  );
}
