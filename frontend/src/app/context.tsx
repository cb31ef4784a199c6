import { createContext, useContext, useEffect } from 'react';
import type { Api } from '../api/client';
import type { ChatStore } from '../chat/chatStore';
import type { IngestStore } from '../documents/ingestStore';
import type { MetricsStore } from '../monitor/metricsStore';

/** App-wide happenings that several screens react to. */
export type AppEvent = 'answer' | 'conversations' | 'models' | 'capabilities' | 'documents';

export class Bus {
  private target = new EventTarget();

  emit(event: AppEvent): void {
    this.target.dispatchEvent(new Event(event));
  }

  on(event: AppEvent, handler: () => void): () => void {
    this.target.addEventListener(event, handler);
    return () => this.target.removeEventListener(event, handler);
  }
}

export interface AppServices {
  api: Api;
  chat: ChatStore;
  bus: Bus;
  metrics: MetricsStore;
  /** Document uploads and ingest jobs, alive while the app is. */
  ingest: IngestStore;
}

export const AppContext = createContext<AppServices | null>(null);

export function useApp(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('useApp outside <AppContext.Provider>');
  return services;
}

export function useBus(event: AppEvent, handler: () => void): void {
  const { bus } = useApp();
  useEffect(() => bus.on(event, handler), [bus, event, handler]);
}
