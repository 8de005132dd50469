import type { Contact, Conversation, Me } from "../api/types";
import { inboxStore, useInbox } from "../live";
import { loadTimeline } from "./actions";
import { ContactDetails } from "./ContactDetails";

export function ContactPanel({ me, conversation }: { me: Me; conversation: Conversation }) {
  const contact = useInbox((s) => s.contact);
  const onChange = (c: Contact) => {
    const before = inboxStore.get().contact;
    inboxStore.set((s) => ({
      ...s,
      contact: c,
      current: s.current && s.current.contact.id === c.id ? { ...s.current, contact: { ...s.current.contact, name: c.name } } : s.current,
      list: {
        ...s.list,
        items: s.list.items.map((x) => (x.contact.id === c.id ? { ...x, contact: { ...x.contact, name: c.name } } : x)),
      },
    }));
    if (!before || before.merged_from.length !== c.merged_from.length) void loadTimeline(c.id);
  };
  return (
    <aside className="pane contact-pane" aria-label="Contact" data-testid="contact-panel">
      {contact ? (
        <ContactDetails contact={contact} canEdit={me.can_reply} currentConversationId={conversation.id} onChange={onChange} />
      ) : (
        <div className="empty small">Loading contact…</div>
      )}
    </aside>
  );
}
