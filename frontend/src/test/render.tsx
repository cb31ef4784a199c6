import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import type { Api } from '../api/client';
import { AppContext, Bus } from '../app/context';
import { ChatStore } from '../chat/chatStore';
import { IngestStore } from '../documents/ingestStore';
import { MetricsStore } from '../monitor/metricsStore';
import { ToastProvider } from '../ui/Toasts';
import { connectedApi } from './fakeBackend';
import type { FakeBackend } from './fakeBackend';

/** Render inside the app's services, talking to a fake backend; `upload` stands in for XHR. */
export function renderWithApp(
  ui: ReactElement,
  backend: FakeBackend,
  upload?: ConstructorParameters<typeof IngestStore>[2],
) {
  const api: Api = connectedApi(backend);
  const bus = new Bus();
  const services = {
    api,
    bus,
    chat: new ChatStore(api),
    metrics: new MetricsStore(api),
    ingest: new IngestStore(api, bus, upload),
  };
  const result = render(
    <AppContext.Provider value={services}>
      <ToastProvider>{ui}</ToastProvider>
    </AppContext.Provider>,
  );
  return { ...result, services };
}
