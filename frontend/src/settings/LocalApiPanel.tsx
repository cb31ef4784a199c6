import { useCallback, useEffect, useState } from 'react';
import { apiKeys as keysApi, apiServer as serverApi } from '../api/endpoints';
import type { ApiKey, ApiServerChange, ApiServerStatus } from '../api/types';
import { useApp } from '../app/context';
import { ApiKeys } from './ApiKeys';
import { ApiServerControls } from './ApiServerControls';
import { Batches } from './Batches';
import { CopyButton } from './CopyButton';
import { RecentApiCalls } from './RecentApiCalls';
import { usageSnippet } from './localApi';

/** Settings → Local API server: Hearth's API for other programs, their keys, their calls and
 *  their batches. */
export function LocalApiPanel() {
  const { api } = useApp();
  const [status, setStatus] = useState<ApiServerStatus | null>(null);
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const [server, list] = await Promise.all([serverApi.get(api), keysApi.list(api)]);
      setStatus(server);
      setKeys(list.keys);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const apply = useCallback(
    async (change: ApiServerChange) => {
      setBusy(true);
      try {
        setStatus(await serverApi.put(api, change));
        setError(null);
      } catch (err) {
        // A busy port is kept as the setting and its sentence is in the status: show that.
        const fresh = await serverApi.get(api).catch(() => null);
        if (fresh) setStatus(fresh);
        setError(fresh?.error ? null : (err as Error).message);
      } finally {
        setBusy(false);
      }
    },
    [api],
  );

  if (!status) {
    return error ? (
      <p className="inline-error" role="alert">
        Could not read the local API server: {error}
      </p>
    ) : (
      <p role="status">Loading…</p>
    );
  }

  const snippet = usageSnippet(status.base_url);
  return (
    <div className="local-api">
      <p className="small">
        Lets other programs (an editor assistant, a script, an agent) use Hearth&apos;s models through an
        OpenAI-compatible API at a fixed address, with an API key.
      </p>
      <ApiServerControls status={status} apply={apply} busy={busy} />
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}

      <div className="api-usage">
        <p className="small">
          With the official OpenAI client (Python), or any program that asks for an OpenAI base URL and key:
        </p>
        <div className="api-snippet">
          <pre className="mono" data-testid="api-usage">
            {snippet}
          </pre>
          <CopyButton text={snippet} label="Copy the example" />
        </div>
      </div>

      <h3>API keys</h3>
      <ApiKeys
        keys={keys}
        onChanged={(key) =>
          setKeys((all) =>
            all.some((k) => k.id === key.id) ? all.map((k) => (k.id === key.id ? key : k)) : [...all, key],
          )
        }
      />

      <RecentApiCalls keys={keys} onRefresh={() => void load()} />

      <Batches />
    </div>
  );
}
