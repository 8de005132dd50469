import type { ComponentProps } from "react";
import type { Conversation, Me } from "../api/types";
import { activePresence, useInbox } from "../live";
import { channelLabel, fullTime, shortDateTime } from "../ui/format";
import { ChannelIcon, Icon } from "../ui/icons";
import { useNow } from "../ui/useNow";
import { Composer } from "./Composer";
import { ContactToggle } from "./ContactPanel";
import { ConversationActions } from "./ConversationActions";
import { CustomerTyping } from "./CustomerTyping";
import { Timeline } from "./Timeline";

/** How many of the customer's labels fit next to their name; the rest are counted ("+2"). */
const HEADER_LABELS = 3;

export function ConversationView({
  me,
  conversation,
  contactToggle,
}: {
  me: Me;
  conversation: Conversation;
  /** Narrow screens: the contact panel is a drawer, opened from the header. */
  contactToggle?: ComponentProps<typeof ContactToggle>;
}) {
  const now = useNow(15_000);
  const presence = useInbox((s) => s.presence);
  // The customer's labels (vip…) stay next to their name even while the contact panel is folded away.
  const contactLabels = useInbox((s) => (s.contact?.id === conversation.contact.id ? s.contact.labels : null)) ?? [];
  const others = activePresence(presence, conversation.id, now);
  const replying = others.filter((p) => p.state === "replying");
  const viewing = others.filter((p) => p.state === "viewing");

  return (
    <div className="conversation" data-testid="conversation" data-conversation-id={conversation.id}>
      <header className="conv-head">
        <div className="conv-title">
          <div className="conv-title-row">
            <h2 title={conversation.contact.name}>{conversation.contact.name || "Unknown contact"}</h2>
            {contactToggle && <ContactToggle {...contactToggle} />}
          </div>
          <div className="muted conv-meta">
            <span className="conv-where">
              <ChannelIcon channel={conversation.inbox.channel} /> {conversation.inbox.name} · {channelLabel(conversation.inbox.channel)} · #
              {conversation.id}
            </span>
            {conversation.status === "snoozed" && conversation.snoozed_until && (
              <span className="pill snoozed-until" title={fullTime(conversation.snoozed_until)} data-testid="snoozed-until">
                <Icon name="clock" size={12} /> Snoozed until {shortDateTime(conversation.snoozed_until)}
              </span>
            )}
            {contactLabels.length > 0 && (
              <span className="title-labels" data-testid="conversation-contact-labels">
                <span className="sr-only">Contact labels:</span>
                {contactLabels.slice(0, HEADER_LABELS).map((name) => (
                  <span key={name} className="pill label">
                    {name}
                  </span>
                ))}
                {contactLabels.length > HEADER_LABELS && (
                  <span className="pill muted" title={contactLabels.slice(HEADER_LABELS).join(", ")}>
                    +{contactLabels.length - HEADER_LABELS}
                  </span>
                )}
              </span>
            )}
          </div>
        </div>
        {me.can_reply ? (
          <ConversationActions conversation={conversation} />
        ) : (
          <div className="readonly-note" data-testid="readonly-note">
            Read-only ({me.role})
          </div>
        )}
      </header>
      {others.length > 0 && (
        <div className={`presence${replying.length ? " replying" : ""}`} role="status" data-testid="presence-warning">
          {replying.length > 0 && <span><Icon name="warning" /> {names(replying.map((p) => p.name))} {replying.length > 1 ? "are" : "is"} replying. </span>}
          {viewing.length > 0 && <span><Icon name="eye" /> {names(viewing.map((p) => p.name))} {viewing.length > 1 ? "are" : "is"} viewing.</span>}
        </div>
      )}
      <Timeline key={`timeline-${conversation.contact.id}`} me={me} conversation={conversation} />
      <CustomerTyping conversationId={conversation.id} name={conversation.contact.name} />
      {me.can_reply && <Composer key={`composer-${conversation.id}`} me={me} conversation={conversation} />}
    </div>
  );
}

function names(list: string[]): string {
  if (list.length <= 1) return list[0] ?? "";
  return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
}
