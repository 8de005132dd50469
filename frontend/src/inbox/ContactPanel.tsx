import { useEffect, useRef, type KeyboardEvent, type ReactNode, type Ref } from "react";
import type { Contact, Conversation, Me } from "../api/types";
import { inboxStore, useInbox } from "../live";
import { trapTab } from "../ui/focus";
import { Icon } from "../ui/icons";
import { loadTimeline } from "./actions";
import { ContactDetails } from "./ContactDetails";

/** Below this width the contact panel is a drawer opened from the header, not a third column (styles.css agrees). */
export const CONTACT_DRAWER_QUERY = "(max-width: 1199px)";

/** Set when the panel is shown as a drawer: how to close it. */
export interface Drawer {
  onClose: () => void;
}

export function ContactPanel({ me, conversation, drawer }: { me: Me; conversation: Conversation; drawer?: Drawer }) {
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
    <ContactAside drawer={drawer}>
      {contact ? (
        <ContactDetails contact={contact} canEdit={me.can_reply} currentConversationId={conversation.id} onChange={onChange} />
      ) : (
        <div className="empty small">Loading contact…</div>
      )}
    </ContactAside>
  );
}

/** The button in a conversation (or contact) header that opens the contact drawer on narrow screens. */
export function ContactToggle({ open, onToggle, ref }: { open: boolean; onToggle: () => void; ref?: Ref<HTMLButtonElement> }) {
  return (
    <button
      ref={ref}
      type="button"
      className="contact-toggle"
      aria-expanded={open}
      aria-controls={open ? "contact-panel" : undefined}
      onClick={onToggle}
      title="Contact details"
      data-testid="contact-panel-toggle"
    >
      Contact
    </button>
  );
}

function isEditing(target: EventTarget): boolean {
  return target instanceof HTMLElement && (target.matches("input, textarea, select") || target.isContentEditable);
}

/**
 * The contact column; or, given `drawer`, the same content in a modal drawer over the conversation:
 * focus moves in and stays in (Tab cycles), and Escape, the close button or a click outside closes it.
 */
export function ContactAside({ drawer, children }: { drawer?: Drawer; children: ReactNode }) {
  const ref = useRef<HTMLElement>(null);
  const isDrawer = drawer !== undefined;
  useEffect(() => {
    if (isDrawer) ref.current?.focus();
  }, [isDrawer]);

  if (!drawer) {
    return (
      <aside className="pane contact-pane" aria-label="Contact" id="contact-panel" data-testid="contact-panel">
        {children}
      </aside>
    );
  }

  const onKeyDown = (e: KeyboardEvent<HTMLElement>) => {
    if (e.key === "Escape" && !isEditing(e.target)) {
      e.stopPropagation();
      drawer.onClose();
    } else trapTab(ref.current, e);
  };

  return (
    <div className="drawer-backdrop" onClick={drawer.onClose} data-testid="contact-drawer-backdrop">
      <aside
        ref={ref}
        className="pane contact-pane contact-drawer"
        role="dialog"
        aria-modal="true"
        aria-label="Contact"
        id="contact-panel"
        tabIndex={-1}
        onClick={(e) => e.stopPropagation()}
        onKeyDown={onKeyDown}
        data-testid="contact-panel"
      >
        <button type="button" className="link drawer-close" onClick={drawer.onClose} aria-label="Close contact details" data-testid="contact-drawer-close">
          <Icon name="close" size={18} />
        </button>
        {children}
      </aside>
    </div>
  );
}
