import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { Api } from '../api/client';
import { authCode } from '../api/connection';
import type { Connection } from '../api/connection';
import { conversations } from '../api/endpoints';
import { ChatStore } from '../chat/chatStore';
import { ChatView } from '../chat/ChatView';
import { clearDraftIf } from '../chat/drafts';
import { DocumentsView } from '../documents/DocumentsView';
import { IngestStore } from '../documents/ingestStore';
import { ModelsView } from '../models/ModelsView';
import { MetricsStore } from '../monitor/metricsStore';
import { MonitorView } from '../monitor/MonitorView';
import { Welcome, finishOnboarding } from '../onboarding/Welcome';
import { SettingsView } from '../settings/SettingsView';
import { UpgradeHost } from '../settings/UpgradeFlow';
import { Icon } from '../ui/Icon';
import { paintTheme } from '../ui/theme';
import { ToastProvider } from '../ui/Toasts';
import { uiPrefs } from '../ui/uiPrefs';
import { AppContext, Bus, useApp } from './context';
import type { AppServices } from './context';
import { navigate, useRoute } from './router';
import { SignIn } from './SignIn';
import { Sidebar } from './Sidebar';

function useServices(connection: Connection): AppServices {
  return useMemo(() => {
    const api = new Api(connection);
    const bus = new Bus();
    const chat = new ChatStore(api, {
      onUserSaved: (id, message) => {
        clearDraftIf(id, message.content);
        clearDraftIf(null, message.content);
        bus.emit('conversations'); // the first message gives a new chat its title
      },
      onAnswer: () => bus.emit('answer'),
      onConversationTouched: () => bus.emit('conversations'),
    });
    return { api, bus, chat, metrics: new MetricsStore(api), ingest: new IngestStore(api, bus) };
  }, [connection]);
}

function Shell() {
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const { api, metrics } = useApp();
  const { status } = useSyncExternalStore(metrics.subscribe, metrics.get);

  useEffect(() => {
    if (uiPrefs.get().onboarded) return;
    // First run: an install with no conversation yet starts with the welcome steps.
    conversations.list(api, undefined, 1).then(
      (page) => {
        if (page.total > 0) finishOnboarding();
        // Only from the start page: someone already elsewhere went there on purpose.
        else if (!uiPrefs.get().onboarded && /^(#\/?(chat)?)?$/.test(window.location.hash)) {
          navigate({ name: 'welcome' }, true);
        }
      },
      () => undefined,
    );
  }, [api]);

  useEffect(() => {
    document.title = {
      chat: 'Hearth',
      documents: 'Documents · Hearth',
      models: 'Models · Hearth',
      monitor: 'Monitor · Hearth',
      settings: 'Settings · Hearth',
      welcome: 'Welcome · Hearth',
    }[route.name];
  }, [route.name]);

  if (route.name === 'welcome') {
    return (
      <main id="main" className="welcome-page">
        <Welcome />
      </main>
    );
  }
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Sidebar route={route} open={menuOpen} onNavigate={() => setMenuOpen(false)} />
      <div className="main-col">
        <button
          type="button"
          className="btn btn-ghost menu-btn"
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <Icon name="chat" /> Menu
        </button>
        {status === 'offline' && (
          <div className="offline-banner" role="status">
            Reconnecting to Hearth's backend…
          </div>
        )}
        <main id="main" tabIndex={-1} className="main">
          {route.name === 'chat' && <ChatView id={route.id} />}
          {route.name === 'documents' && <DocumentsView id={route.id} />}
          {route.name === 'models' && <ModelsView />}
          {route.name === 'monitor' && <MonitorView />}
          {route.name === 'settings' && <SettingsView />}
        </main>
      </div>
    </div>
  );
}

function Splash() {
  return (
    <main className="splash" role="status">
      Connecting to Hearth…
    </main>
  );
}

function Ready({ connection }: { connection: Connection }) {
  const services = useServices(connection);
  // The UI's choices come from the backend before the first screen: a returning web-mode user
  // (new port, empty localStorage) sees neither the welcome steps nor the wrong theme.
  const [choicesKnown, setChoicesKnown] = useState(false);
  useEffect(() => {
    let live = true;
    void uiPrefs.load(services.api).then(() => {
      if (!live) return;
      paintTheme(uiPrefs.get().theme ?? 'system');
      setChoicesKnown(true);
    });
    return () => {
      live = false;
    };
  }, [services]);
  useEffect(() => {
    services.metrics.start();
    return () => services.metrics.stop();
  }, [services]);
  if (!choicesKnown) return <Splash />;
  return (
    <AppContext.Provider value={services}>
      <ToastProvider>
        <UpgradeHost>
          <Shell />
        </UpgradeHost>
      </ToastProvider>
    </AppContext.Provider>
  );
}

/** The page: connect (Electron or web sign-in), then the app. */
export function App({ connection }: { connection: Connection }) {
  const state = useSyncExternalStore(connection.subscribe, () => connection.state);
  useEffect(() => {
    void connection.start();
    // A sign-in link opened in a tab that already shows Hearth changes only the #fragment.
    const onHash = () => {
      if (authCode(window.location.hash) !== null) void connection.start();
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [connection]);
  if (state.kind === 'signin') return <SignIn connection={connection} reason={state.reason} />;
  // Once ready, a later reconnect (Electron respawn) keeps the app mounted with its state.
  if (state.kind === 'connecting' && !connection.backend) return <Splash />;
  return <Ready connection={connection} />;
}
