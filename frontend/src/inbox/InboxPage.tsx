import { useEffect, useRef, useState } from "react";
import type { Me } from "../api/types";
import { inboxStore, sendPresence, useInbox } from "../live";
import { runCommand } from "../ui/commands";
import { navigate } from "../ui/router";
import { useMediaQuery } from "../ui/useMediaQuery";
import { loadContact, loadList, loadTimeline, markRead, openConversation, resolveConversation } from "./actions";
import { CONTACT_DRAWER_QUERY, ContactPanel } from "./ContactPanel";
import { ConversationList } from "./ConversationList";
import { ConversationView } from "./ConversationView";

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable;
}

export function moveSelection(delta: 1 | -1) {
  const { list, currentId } = inboxStore.get();
  if (!list.items.length) return;
  const idx = list.items.findIndex((c) => c.id === currentId);
  const nextIdx = idx < 0 ? (delta > 0 ? 0 : list.items.length - 1) : Math.min(list.items.length - 1, Math.max(0, idx + delta));
  const target = list.items[nextIdx];
  if (target && target.id !== currentId) navigate(`/conversations/${target.id}`);
}

export function InboxPage({ me, conversationId }: { me: Me; conversationId: number | null }) {
  const current = useInbox((s) => s.current);
  const stale = useInbox((s) => s.timeline.stale);
  const staleContact = useInbox((s) => s.timeline.contactId);
  const [missing, setMissing] = useState<number | null>(null);
  // On a narrow screen the contact panel is a drawer, closed until the header's button opens it.
  const narrow = useMediaQuery(CONTACT_DRAWER_QUERY);
  const [contactOpen, setContactOpen] = useState(false);
  const contactToggle = useRef<HTMLButtonElement>(null);

  useEffect(() => setContactOpen(false), [conversationId, narrow]);
  const closeContact = () => {
    setContactOpen(false);
    contactToggle.current?.focus();
  };

  useEffect(() => {
    if (!inboxStore.get().list.loaded) void loadList();
  }, []);

  useEffect(() => {
    let active = true;
    void openConversation(conversationId).then((found) => {
      if (active && !found) setMissing(conversationId);
    });
    // Read-only roles (marketers) tell nobody they are viewing: the server refuses their presence.
    if (conversationId === null || !me.can_reply) return;
    sendPresence(conversationId, "viewing");
    const beat = setInterval(() => sendPresence(conversationId, "viewing"), 30_000);
    return () => {
      active = false;
      clearInterval(beat);
      sendPresence(conversationId, "idle");
    };
  }, [conversationId, me.can_reply]);

  // Opening a conversation (or receiving a message while it's open) marks it read; not for read-only roles.
  useEffect(() => {
    if (me.can_reply && current && current.unread_count > 0 && current.id === conversationId) void markRead(current.id);
  }, [current, conversationId, me.can_reply]);

  // Merge / unmerge changed which messages belong to the contact: reload.
  useEffect(() => {
    if (stale && staleContact !== null) {
      void loadTimeline(staleContact);
      void loadContact(staleContact);
    }
  }, [stale, staleContact]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.altKey) return;
      if (isTyping(e.target)) {
        if (e.key === "Escape") (e.target as HTMLElement).blur();
        return;
      }
      if (document.querySelector("[role=dialog]") && e.key !== "?") return;
      const cur = inboxStore.get().current;
      switch (e.key) {
        case "j":
          moveSelection(1);
          break;
        case "k":
          moveSelection(-1);
          break;
        case "r":
          if (!me.can_reply || !cur) return;
          runCommand("focusComposer");
          break;
        case "n":
          if (!me.can_reply || !cur) return;
          runCommand("noteMode");
          break;
        case "e":
          if (!me.can_reply || !cur || cur.status === "resolved") return;
          void resolveConversation(cur);
          break;
        case "a":
          if (!me.can_reply || !cur) return;
          runCommand("focusAssignee");
          break;
        case "/":
          runCommand("focusSearch");
          break;
        case "?":
          runCommand("toggleHelp");
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [me.can_reply]);

  return (
    <div className="inbox">
      <ConversationList me={me} selectedId={conversationId} />
      <section className="pane conversation-pane" aria-label="Conversation">
        {conversationId === null ? (
          <div className="empty" data-testid="no-conversation">
            <h2>No conversation selected</h2>
            <p>Pick a conversation from the list, or press <kbd>j</kbd> to open the first one. Press <kbd>?</kbd> for all shortcuts.</p>
          </div>
        ) : current ? (
          <ConversationView
            me={me}
            conversation={current}
            contactToggle={narrow ? { open: contactOpen, onToggle: () => setContactOpen((open) => !open), ref: contactToggle } : undefined}
          />
        ) : missing === conversationId ? (
          <div className="empty" role="alert" data-testid="conversation-not-found">
            <h2>Conversation not found</h2>
            <p>It does not exist, or it belongs to a team you are not part of. Ask an admin if you think you should see it.</p>
          </div>
        ) : (
          <div className="empty">Loading conversation…</div>
        )}
      </section>
      {current && conversationId !== null && (!narrow || contactOpen) && (
        <ContactPanel me={me} conversation={current} drawer={narrow ? { onClose: closeContact } : undefined} />
      )}
    </div>
  );
}
