import type { Conversation, Me } from "../api/types";
import { activePresence, useInbox } from "../live";
import { channelLabel } from "../ui/format";
import { ChannelIcon, Icon } from "../ui/icons";
import { useNow } from "../ui/useNow";
import { Composer } from "./Composer";
import { ConversationActions } from "./ConversationActions";
import { CustomerTyping } from "./CustomerTyping";
import { Timeline } from "./Timeline";

export function ConversationView({ me, conversation }: { me: Me; conversation: Conversation }) {
  const now = useNow(15_000);
  const presence = useInbox((s) => s.presence);
  const others = activePresence(presence, conversation.id, now);
  const replying = others.filter((p) => p.state === "replying");
  const viewing = others.filter((p) => p.state === "viewing");

  return (
    <div className="conversation" data-testid="conversation" data-conversation-id={conversation.id}>
      <header className="conv-head">
        <div className="conv-title">
          <h2>{conversation.contact.name || "Unknown contact"}</h2>
          <span className="muted">
            <ChannelIcon channel={conversation.inbox.channel} /> {conversation.inbox.name} · {channelLabel(conversation.inbox.channel)} · #
            {conversation.id}
          </span>
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
      <CustomerTyping conversationId={conversation.id} />
      {me.can_reply && <Composer key={`composer-${conversation.id}`} me={me} conversation={conversation} />}
    </div>
  );
}

function names(list: string[]): string {
  if (list.length <= 1) return list[0] ?? "";
  return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
}
