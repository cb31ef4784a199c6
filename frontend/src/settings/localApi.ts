// Settings → Local API server, the pure part: what the status says, which ports and limits are
// valid, how long ago a key was used, and the snippet that sets up a client. No I/O here.

import type { ApiKey, ApiKeyRole, ApiServerStatus } from '../api/types';

export const MIN_PORT = 1024;
export const MAX_PORT = 65535;
export const MAX_LIMIT = 1_000_000; // hearth/api/keys.py Limit

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A port the backend accepts (ApiServerConfig.port), or why not. */
export function parsePort(text: string): Parsed<number> {
  const trimmed = text.trim();
  const n = Number(trimmed);
  if (trimmed === '' || !Number.isInteger(n) || n < MIN_PORT || n > MAX_PORT) {
    return { ok: false, reason: `A port is a whole number from ${MIN_PORT} to ${MAX_PORT}.` };
  }
  return { ok: true, value: n };
}

/** A per-minute limit: empty is no limit (null). */
export function parseLimit(text: string): Parsed<number | null> {
  const trimmed = text.trim().replace(/[,_\s]/g, '');
  if (trimmed === '') return { ok: true, value: null };
  const n = Number(trimmed);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    return {
      ok: false,
      reason: `A limit is a whole number from 1 to ${MAX_LIMIT.toLocaleString('en')}, or empty for none.`,
    };
  }
  return { ok: true, value: n };
}

/** The server's state in one plain sentence; the backend's own reason when it is not listening. */
export function statusText(status: ApiServerStatus): string {
  if (!status.enabled) return "Off: other programs cannot reach Hearth's API.";
  if (status.listening) {
    return `Listening on ${status.base_url}${status.lan ? ' and on the local network' : ' (this computer only)'}`;
  }
  return status.error ?? `Not listening on port ${status.port}.`;
}

/** "never", "just now", "5 min ago", "3 h ago", "2 days ago", then the date. */
export function relativeTime(unixSeconds: number | null, nowMs: number = Date.now()): string {
  if (unixSeconds === null) return 'never';
  const seconds = Math.max(0, Math.round(nowMs / 1000 - unixSeconds));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 7) return days === 1 ? 'yesterday' : `${days} days ago`;
  return new Date(unixSeconds * 1000).toLocaleDateString();
}

/** A key's limits, as the table shows them. */
export function limitsText(key: Pick<ApiKey, 'requests_per_minute' | 'tokens_per_minute'>): string {
  const parts = [];
  if (key.requests_per_minute !== null) parts.push(`${key.requests_per_minute.toLocaleString('en')} requests/min`);
  if (key.tokens_per_minute !== null) parts.push(`${key.tokens_per_minute.toLocaleString('en')} tokens/min`);
  return parts.length ? parts.join(', ') : 'No limits';
}

/** What each role may do (hearth/keys/roles.py), one line each. */
export const ROLE_HELP: Record<ApiKeyRole, string> = {
  read: 'models, status and metrics only: for a dashboard',
  user: 'also chat, completions, embeddings, batches, conversations and documents: for an assistant program',
  admin: "everything Hearth's own window can do, settings and keys included",
};

export const ROLES: ApiKeyRole[] = ['read', 'user', 'admin'];

/** Who made an audited call: the key's name, or its number once the list no longer has it. */
export function keyName(keyId: number, keys: Pick<ApiKey, 'id' | 'name'>[]): string {
  return keys.find((k) => k.id === keyId)?.name ?? `key ${keyId}`;
}

/** Setting up the official OpenAI client against this server. */
export function usageSnippet(baseUrl: string): string {
  return `from openai import OpenAI\n\nclient = OpenAI(base_url="${baseUrl}", api_key="hk_…")`;
}
