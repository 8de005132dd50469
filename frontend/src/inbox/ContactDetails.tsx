import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Contact, Conversation } from "../api/types";
import { ContactPicker } from "../ui/ContactPicker";
import { channelLabel, relativeTime } from "../ui/format";
import { ChannelIcon, Icon } from "../ui/icons";
import { navigate } from "../ui/router";
import { showToast } from "../ui/toast";

const KIND_LABEL: Record<string, string> = { phone: "Phone", email: "Email", google_business: "Google" };

/** Contact card: editable name, identities, other conversations, merge / un-merge. */
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
      showToast(`Could not rename contact: ${(e as Error).message}`);
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
      showToast(`Merge failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  const unmerge = async (mergeId: number) => {
    setBusy(true);
    try {
      onChange(await api.unmergeContact(contact.id, mergeId));
    } catch (e) {
      showToast(`Un-merge failed: ${(e as Error).message}`);
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

      <h4>Identities</h4>
      {contact.identities.length === 0 && <p className="muted small">No phone, email or Google identity.</p>}
      <ul className="identities">
        {contact.identities.map((i) => (
          <li key={i.id} data-testid="identity" data-opted-out={i.opted_out ? "true" : "false"}>
            <span className="muted small">{KIND_LABEL[i.kind] ?? i.kind}</span> <span className="ident-value">{i.value}</span>
            {i.opted_out && <span className="pill danger" title="This identity opted out (e.g. replied STOP)">opted out</span>}
          </li>
        ))}
      </ul>

      <h4>Conversations {convs && `(${convs.length})`}</h4>
      {convs === null ? (
        <p className="muted small">Loading…</p>
      ) : others.length === 0 ? (
        <p className="muted small">No other conversations.</p>
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
