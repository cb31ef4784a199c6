import { useCallback, useEffect, useState } from 'react';
import { apiKeys as keysApi } from '../api/endpoints';
import type { ApiKey, AuditEntry } from '../api/types';
import { useApp } from '../app/context';
import { keyName, relativeTime } from './localApi';

const SHOWN = 20;

/** The audit log's newest calls: which key called which route, the status and when.
 *  `onRefresh` reads the rest again too (the keys' "last used"). */
export function RecentApiCalls({ keys, onRefresh }: { keys: ApiKey[]; onRefresh?: () => void }) {
  const { api } = useApp();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setEntries((await keysApi.audit(api, SHOWN)).entries);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setLoading(false);
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const now = Date.now();
  return (
    <div className="api-audit">
      <div className="api-audit-head">
        <h3 id="api-audit-title">Recent API calls</h3>
        <button
          type="button"
          className="btn btn-small"
          disabled={loading}
          onClick={() => {
            onRefresh?.();
            void load();
          }}
        >
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      {error && (
        <p className="inline-error" role="alert">
          Could not read the calls: {error}
        </p>
      )}
      {entries !== null && entries.length === 0 && <p className="small">No calls with a key yet.</p>}
      {entries !== null && entries.length > 0 && (
        <ol className="api-audit-list" aria-labelledby="api-audit-title" data-testid="api-audit">
          {entries.map((entry) => (
            <li key={entry.id}>
              <span className="api-audit-when" title={new Date(entry.at * 1000).toLocaleString()}>
                {relativeTime(entry.at, now)}
              </span>
              <span className="api-audit-key">{keyName(entry.key_id, keys)}</span>
              <code className="mono">
                {entry.method} {entry.route}
              </code>
              <span className={`badge ${entry.status >= 400 ? 'badge-bad' : 'badge-good'}`}>{entry.status}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
