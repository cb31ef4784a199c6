// One typed door to the backend: the token on every call, one error shape, one retry after a 401
// (the Electron shell may have restarted the backend with a new token).

import type { Connection } from './connection';
import { readJsonEvents } from './sse';
import type { ApiErrorBody } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static offline(): ApiError {
    return new ApiError(0, 'offline', "Hearth's backend is not reachable right now.");
  }
}

export interface RequestOptions {
  body?: unknown;
  /** A raw body (a file): sent as is, with this content type. */
  raw?: { data: BodyInit; type: string };
  signal?: AbortSignal;
  query?: Record<string, string | number | boolean | null | undefined>;
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: Partial<ApiErrorBody> | null = null;
  try {
    const parsed = (await response.json()) as Partial<ApiErrorBody> & { error?: Partial<ApiErrorBody> };
    // /v1 routes answer in OpenAI's shape, {"error": {"code", "message", ...}}.
    body = parsed?.error && typeof parsed.error === 'object' ? parsed.error : parsed;
  } catch {
    // not JSON: a proxy or a crash page
  }
  return new ApiError(
    response.status,
    body?.code ?? `http_${response.status}`,
    body?.message ?? `The backend answered HTTP ${response.status}.`,
  );
}

export function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export class Api {
  constructor(
    readonly connection: Connection,
    private readonly fetchImpl: typeof fetch = (...args) => window.fetch(...args),
  ) {}

  /** A response with a 2xx status, or an ApiError. */
  async raw(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const first = await this.once(method, path, options);
    if (first.status !== 401) return this.check(first);
    // Electron: a respawned backend has a new token. Web: this asks the person to sign in.
    const state = await this.connection.refresh('Your sign-in has expired.');
    if (state.kind !== 'ready') throw await errorFrom(first);
    return this.check(await this.once(method, path, options));
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.raw(method, path, options);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  get<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.json<T>('GET', path, options);
  }

  post<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.json<T>('POST', path, { ...options, body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PATCH', path, { body });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PUT', path, { body });
  }

  delete<T>(path: string): Promise<T> {
    return this.json<T>('DELETE', path);
  }

  /** Server-Sent Events from a GET or a POST, as parsed JSON. */
  async *events<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): AsyncGenerator<{ event: string; data: T }> {
    const response = await this.raw(method, path, options);
    if (!response.body) return;
    yield* readJsonEvents<T>(response.body);
  }

  private check(response: Response): Promise<Response> | Response {
    if (response.ok) return response;
    return errorFrom(response).then((error) => {
      throw error;
    });
  }

  private async once(method: string, path: string, options: RequestOptions): Promise<Response> {
    const backend = this.connection.backend ?? (await this.readyBackend());
    const headers: Record<string, string> = { Authorization: `Bearer ${backend.token}` };
    let body: BodyInit | undefined;
    if (options.raw) {
      headers['Content-Type'] = options.raw.type;
      body = options.raw.data;
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    try {
      return await this.fetchImpl(`${backend.base}${withQuery(path, options.query)}`, {
        method,
        headers,
        body,
        signal: options.signal,
        cache: 'no-store',
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw ApiError.offline();
    }
  }

  private async readyBackend() {
    const state = await this.connection.start();
    if (state.kind !== 'ready')
      throw new ApiError(401, 'unauthorized', state.kind === 'signin' ? state.reason : 'Not connected.');
    return state.backend;
  }
}
