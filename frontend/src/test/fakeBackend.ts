// A fake of the backend's HTTP API for component and store tests: routes answer like the real
// ones (JSON bodies, SSE streams, error shape), and every call is recorded.

import { Api } from '../api/client';
import { Connection } from '../api/connection';
import type { ConnectionEnv } from '../api/connection';

export interface Call {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string>;
}

type Handler = (call: Call, match: RegExpMatchArray) => Response | Promise<Response>;

export function json(body: unknown, status = 200): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

export function apiError(status: number, code: string, message: string): Response {
  return json({ code, message }, status);
}

/** An SSE response; events can be released one by one with `push`, then `end`. */
export function sseStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    response: new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } }),
    push(event: string, data: unknown) {
      controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    },
    end() {
      controller.close();
    },
    fail(error: Error) {
      controller.error(error);
    },
  };
}

export function sseResponse(events: [string, unknown][]): Response {
  const stream = sseStream();
  for (const [event, data] of events) stream.push(event, data);
  stream.end();
  return stream.response;
}

export class FakeBackend {
  calls: Call[] = [];
  private routes: { method: string; pattern: RegExp; handler: Handler }[] = [];

  on(method: string, pattern: RegExp | string, handler: Handler): this {
    const regex = typeof pattern === 'string' ? new RegExp(`^${pattern.replace(/[.?]/g, '\\$&')}$`) : pattern;
    this.routes.unshift({ method, pattern: regex, handler });
    return this;
  }

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    let body: unknown = init.body;
    if (typeof init.body === 'string') {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = init.body;
      }
    }
    const call = { method, path: url.pathname + url.search, body, headers };
    this.calls.push(call);
    for (const route of this.routes) {
      const match = (url.pathname + url.search).match(route.pattern) ?? url.pathname.match(route.pattern);
      if (route.method === method && match) return route.handler(call, match);
    }
    return apiError(404, 'not_found', `No fake route for ${method} ${url.pathname}`);
  };

  callsTo(method: string, path: string | RegExp): Call[] {
    return this.calls.filter(
      (c) => c.method === method && (typeof path === 'string' ? c.path.split('?')[0] === path : path.test(c.path)),
    );
  }
}

export const BASE = 'http://127.0.0.1:4321';

export function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (k) => data.get(k) ?? null,
    key: (i) => [...data.keys()][i] ?? null,
    removeItem: (k) => void data.delete(k),
    setItem: (k, v) => void data.set(k, String(v)),
  };
}

/** A web-mode connection that already holds a token, and an Api on the fake. */
export function connectedApi(backend: FakeBackend, token = 'tok-123'): Api {
  const storage = memoryStorage();
  storage.setItem('hearth.token', token);
  const env: ConnectionEnv = {
    shell: undefined,
    location: { hash: '#/', origin: BASE, pathname: '/', search: '' },
    history: { replaceState: () => undefined },
    storage,
    fetch: backend.fetch as typeof fetch,
    sleep: async () => undefined,
  };
  const connection = new Connection(env);
  void connection.start();
  return new Api(connection, backend.fetch as typeof fetch);
}
