import { Suspense, lazy, useCallback, useEffect, useState } from "react";
import { ApiError, api } from "./api/client";
import type { Me } from "./api/types";
import { InboxPage } from "./inbox/InboxPage";
import { loadMeta } from "./inbox/meta";
import { resync } from "./inbox/actions";
import { inboxStore, initialState, onLiveEvents, onResync, startLive, stopLive, useInbox } from "./live";
import { NotificationsToggle } from "./notify/NotificationsToggle";
import { notifyForEvents } from "./notify/notifier";
import { LoginPage } from "./ui/LoginPage";
import { Toasts } from "./ui/Toasts";
import { HelpOverlay } from "./ui/HelpOverlay";
import { SimulatorButton } from "./dev/SimulatorButton";
import { navigate, parseRoute, usePath } from "./ui/router";

const ContactsPage = lazy(() => import("./contacts/ContactsPage"));

type Boot = { state: "loading" } | { state: "anon" } | { state: "error"; message: string } | { state: "ready"; me: Me };

export default function App() {
  const [boot, setBoot] = useState<Boot>({ state: "loading" });

  const signedIn = useCallback((me: Me) => {
    const init = initialState(me);
    // Marketers have nothing assigned to them: start them on "All".
    if (!me.can_reply) init.list = { ...init.list, filter: { ...init.list.filter, view: "all" } };
    inboxStore.set(init);
    setBoot({ state: "ready", me });
    void loadMeta();
    onResync(resync);
    startLive();
  }, []);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        await api.csrf().catch(() => undefined);
        const me = await api.me();
        if (!cancelled) signedIn(me);
      } catch (e) {
        if (cancelled) return;
        if (e instanceof ApiError && (e.status === 403 || e.status === 401)) setBoot({ state: "anon" });
        else setBoot({ state: "error", message: e instanceof Error ? e.message : String(e) });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [signedIn]);

  const logout = async () => {
    try {
      await api.logout();
    } catch {
      /* ignore: we drop local state anyway */
    }
    stopLive();
    inboxStore.set(initialState());
    await api.csrf().catch(() => undefined);
    navigate("/", true);
    setBoot({ state: "anon" });
  };

  if (boot.state === "loading") return <div className="boot">Loading Heron…</div>;
  if (boot.state === "error")
    return (
      <div className="boot" role="alert">
        <p>Heron could not reach the server: {boot.message}</p>
        <button onClick={() => window.location.reload()}>Retry</button>
      </div>
    );
  if (boot.state === "anon")
    return (
      <>
        <LoginPage
          onSignedIn={async (user) => {
            // Re-read /me so we always get the full shape (teams, can_reply).
            const me = await api.me().catch(() => user);
            signedIn(me);
          }}
        />
        <Toasts />
      </>
    );
  return <Shell me={boot.me} onLogout={logout} />;
}

function Shell({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const path = usePath();
  const route = parseRoute(path);
  const connection = useInbox((s) => s.connection);
  useEffect(
    () => onLiveEvents((events) => notifyForEvents(events, { meId: me.id, openConversationId: inboxStore.get().currentId })),
    [me.id],
  );
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="/" onClick={(e) => (e.preventDefault(), navigate("/"))}>
          Heron
        </a>
        <nav aria-label="Main">
          <a
            href="/"
            aria-current={route.page === "inbox" ? "page" : undefined}
            onClick={(e) => (e.preventDefault(), navigate("/"))}
            data-testid="nav-inbox"
          >
            Inbox
          </a>
          <a
            href="/contacts"
            aria-current={route.page === "contacts" ? "page" : undefined}
            onClick={(e) => (e.preventDefault(), navigate("/contacts"))}
            data-testid="nav-contacts"
          >
            Contacts
          </a>
        </nav>
        <div className="spacer" />
        <SimulatorButton me={me} />
        <NotificationsToggle />
        <span className="current-user" data-testid="current-user" data-role={me.role}>
          {me.name || me.email} <span className={`role role-${me.role}`}>{me.role}</span>
        </span>
        <button type="button" className="link" onClick={onLogout} data-testid="logout">
          Sign out
        </button>
      </header>
      {connection === "reconnecting" && (
        <div className="banner" role="status" data-testid="reconnecting-banner">
          Reconnecting… live updates are paused; we will catch up automatically.
        </div>
      )}
      <main className="main">
        {route.page === "inbox" ? (
          <InboxPage me={me} conversationId={route.conversationId} />
        ) : (
          <Suspense fallback={<div className="empty">Loading contacts…</div>}>
            <ContactsPage contactId={route.contactId} />
          </Suspense>
        )}
      </main>
      <Toasts />
      <HelpOverlay />
    </div>
  );
}
