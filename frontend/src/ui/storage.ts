// localStorage that never throws (private windows, full disks) and keeps JSON typed.

export function readJson<T>(key: string, fallback: T, storage: Storage | undefined = globalThis.localStorage): T {
  try {
    const raw = storage?.getItem(key);
    return raw === null || raw === undefined ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}

export function writeJson(key: string, value: unknown, storage: Storage | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(key, JSON.stringify(value));
  } catch {
    // Quota or privacy mode: the UI keeps working from memory.
  }
}

export function remove(key: string, storage: Storage | undefined = globalThis.localStorage): void {
  try {
    storage?.removeItem(key);
  } catch {
    // ignore
  }
}
