import type { ApiServerStatus } from '../api/types';
import { keyName, limitsText, parseLimit, parsePort, relativeTime, statusText, usageSnippet } from './localApi';

const status: ApiServerStatus = {
  enabled: true,
  port: 8484,
  lan: false,
  listening: true,
  error: null,
  base_url: 'http://127.0.0.1:8484/v1',
  lan_urls: [],
};

describe('parsePort', () => {
  it.each([
    ['8484', 8484],
    [' 1024 ', 1024],
    ['65535', 65535],
  ])('takes %j', (text, port) => {
    expect(parsePort(text)).toEqual({ ok: true, value: port });
  });

  it.each(['', '1023', '65536', '80', '8484.5', 'abc', '-1'])('refuses %j with the range', (text) => {
    expect(parsePort(text)).toEqual({ ok: false, reason: 'A port is a whole number from 1024 to 65535.' });
  });
});

describe('parseLimit', () => {
  it('reads empty as no limit, and whole numbers with separators', () => {
    expect(parseLimit('')).toEqual({ ok: true, value: null });
    expect(parseLimit('  ')).toEqual({ ok: true, value: null });
    expect(parseLimit('60')).toEqual({ ok: true, value: 60 });
    expect(parseLimit('10,000')).toEqual({ ok: true, value: 10000 });
    expect(parseLimit('1000000')).toEqual({ ok: true, value: 1_000_000 });
  });

  it.each(['0', '-5', '1.5', 'ten', '1000001'])('refuses %j', (text) => {
    expect(parseLimit(text).ok).toBe(false);
  });
});

describe('statusText', () => {
  it('says where it listens, or why it does not', () => {
    expect(statusText(status)).toBe('Listening on http://127.0.0.1:8484/v1 (this computer only)');
    expect(statusText({ ...status, lan: true })).toBe('Listening on http://127.0.0.1:8484/v1 and on the local network');
    expect(statusText({ ...status, enabled: false, listening: false })).toBe(
      "Off: other programs cannot reach Hearth's API.",
    );
    const busy = 'Port 8484 is in use by another program; choose another.';
    expect(statusText({ ...status, listening: false, error: busy })).toBe(busy);
    expect(statusText({ ...status, listening: false })).toBe('Not listening on port 8484.');
  });
});

describe('relativeTime', () => {
  const now = Date.UTC(2025, 0, 10, 12, 0, 0);
  const ago = (s: number) => now / 1000 - s;
  it.each([
    [null, 'never'],
    [ago(0), 'just now'],
    [ago(44), 'just now'],
    [ago(-30), 'just now'], // a clock a little ahead
    [ago(60), '1 min ago'],
    [ago(59 * 60), '59 min ago'],
    [ago(2 * 3600), '2 h ago'],
    [ago(30 * 3600), 'yesterday'],
    [ago(3 * 86400), '3 days ago'],
  ])('%s → %s', (at, text) => {
    expect(relativeTime(at, now)).toBe(text);
  });

  it('gives the date for older ones', () => {
    expect(relativeTime(ago(30 * 86400), now)).toBe(new Date(now - 30 * 86_400_000).toLocaleDateString());
  });
});

describe('limitsText', () => {
  it('lists the limits there are', () => {
    expect(limitsText({ requests_per_minute: null, tokens_per_minute: null })).toBe('No limits');
    expect(limitsText({ requests_per_minute: 60, tokens_per_minute: null })).toBe('60 requests/min');
    expect(limitsText({ requests_per_minute: 60, tokens_per_minute: 20000 })).toBe(
      '60 requests/min, 20,000 tokens/min',
    );
  });
});

describe('keyName and usageSnippet', () => {
  it('names a key by its id, or says which one it was', () => {
    expect(keyName(2, [{ id: 2, name: 'Editor' }])).toBe('Editor');
    expect(keyName(9, [{ id: 2, name: 'Editor' }])).toBe('key 9');
  });

  it('sets up the OpenAI client with the base URL', () => {
    expect(usageSnippet('http://127.0.0.1:9000/v1')).toContain(
      'client = OpenAI(base_url="http://127.0.0.1:9000/v1", api_key="hk_…")',
    );
  });
});
