import { useEffect, useState } from 'react';
import type { ApiServerChange, ApiServerStatus } from '../api/types';
import { Dialog } from '../ui/Dialog';
import { CopyButton } from './CopyButton';
import { MAX_PORT, MIN_PORT, parsePort, statusText } from './localApi';

interface Props {
  status: ApiServerStatus;
  /** Apply a change; resolves once the new status is shown (an error is shown by the caller). */
  apply: (change: ApiServerChange) => Promise<void>;
  busy: boolean;
}

/** The server itself: on/off, its port, where it answers, and the local network. */
export function ApiServerControls({ status, apply, busy }: Props) {
  const [portText, setPortText] = useState(String(status.port));
  const [askLan, setAskLan] = useState(false);
  useEffect(() => setPortText(String(status.port)), [status.port]);

  const port = parsePort(portText);
  const current = { enabled: status.enabled, port: status.port, lan: status.lan };
  const trouble = status.enabled && !status.listening;

  return (
    <div className="api-server">
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={status.enabled}
          disabled={busy}
          onChange={() => void apply({ ...current, enabled: !status.enabled })}
        />
        <span className="switch-track" aria-hidden="true" />
        Local API server
      </label>
      <p
        className={trouble ? 'inline-error' : 'api-status small'}
        role={trouble ? 'alert' : 'status'}
        data-testid="api-server-status"
      >
        {statusText(status)}
      </p>

      <form
        className="api-port"
        onSubmit={(e) => {
          e.preventDefault();
          if (port.ok) void apply({ ...current, port: port.value });
        }}
      >
        <label htmlFor="api-port-input">Port</label>
        <input
          id="api-port-input"
          type="number"
          inputMode="numeric"
          min={MIN_PORT}
          max={MAX_PORT}
          step={1}
          value={portText}
          aria-invalid={!port.ok}
          aria-describedby="api-port-help"
          onChange={(e) => setPortText(e.target.value)}
        />
        <button
          type="submit"
          className="btn btn-small"
          disabled={busy || !port.ok || (port.value === status.port && !trouble)}
        >
          Apply
        </button>
        <span id="api-port-help" className={port.ok ? 'small' : 'error-text small'}>
          {port.ok ? 'Other programs are set up with this port once; it stays across restarts.' : port.reason}
        </span>
      </form>

      <div className="api-url">
        <span className="small">Base URL</span>
        <code className="mono" data-testid="api-base-url">
          {status.base_url}
        </code>
        <CopyButton text={status.base_url} label="Copy the base URL" />
      </div>

      <label className="api-lan">
        <input
          type="checkbox"
          checked={status.lan}
          disabled={busy}
          onChange={() => (status.lan ? void apply({ ...current, lan: false }) : setAskLan(true))}
        />
        Serve on the local network
      </label>
      {status.lan && status.lan_urls.length > 0 && (
        <div className="api-lan-urls">
          <p className="small">Other computers on your network reach it at:</p>
          <ul data-testid="api-lan-urls">
            {status.lan_urls.map((url) => (
              <li key={url}>
                <code className="mono">{url}</code> <CopyButton text={url} label={`Copy ${url}`} />
              </li>
            ))}
          </ul>
        </div>
      )}

      {askLan && (
        <Dialog
          title="Serve on the local network?"
          onClose={() => setAskLan(false)}
          footer={
            <>
              <button type="button" className="btn" onClick={() => setAskLan(false)} data-autofocus>
                Cancel
              </button>
              <button
                type="button"
                className="btn btn-primary"
                onClick={() => {
                  setAskLan(false);
                  void apply({ ...current, lan: true, confirm_lan: true });
                }}
              >
                Serve on the network
              </button>
            </>
          }
        >
          <p>
            Every computer on your network can then use Hearth&apos;s models, conversations and documents with an API
            key. Requests from other computers always need a key.
          </p>
          <p className="small">
            Only turn this on for a network you trust, such as your home network, and give keys only the role they need.
          </p>
        </Dialog>
      )}
    </div>
  );
}
