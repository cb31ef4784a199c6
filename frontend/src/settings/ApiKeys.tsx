import { useState } from 'react';
import { apiKeys as keysApi } from '../api/endpoints';
import type { ApiKey, ApiKeyRole, NewApiKey } from '../api/types';
import { useApp } from '../app/context';
import { Dialog } from '../ui/Dialog';
import { useToasts } from '../ui/Toasts';
import { CopyButton } from './CopyButton';
import { ROLE_HELP, ROLES, limitsText, parseLimit, relativeTime } from './localApi';

interface Props {
  keys: ApiKey[];
  /** A key changed, was made or revoked: this is the list's new state for it. */
  onChanged: (key: ApiKey) => void;
}

/** API keys for other programs: the list, revoke, limits, and a new key (its secret shown once). */
export function ApiKeys({ keys, onChanged }: Props) {
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [editing, setEditing] = useState<ApiKey | null>(null);
  const [created, setCreated] = useState<NewApiKey | null>(null);
  const now = Date.now();

  return (
    <div className="api-keys">
      {keys.length === 0 ? (
        <p className="small">No keys yet. Make one below for each program that should use Hearth.</p>
      ) : (
        <div className="table-wrap">
          <table className="models-table api-keys-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Key</th>
                <th scope="col">Last used</th>
                <th scope="col">Limits</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id} className={key.revoked_at !== null ? 'revoked' : undefined}>
                  <th scope="row">{key.name}</th>
                  <td>{key.role}</td>
                  <td>
                    <code className="mono">{key.hint}</code>
                  </td>
                  <td>{relativeTime(key.last_used_at, now)}</td>
                  <td>{limitsText(key)}</td>
                  <td>
                    {key.revoked_at !== null ? (
                      <span className="badge badge-bad">Revoked {relativeTime(key.revoked_at, now)}</span>
                    ) : (
                      <div className="row-actions">
                        <button
                          type="button"
                          className="btn btn-small"
                          aria-label={`Edit the limits of ${key.name}`}
                          onClick={() => setEditing(key)}
                        >
                          Limits
                        </button>
                        <button
                          type="button"
                          className="btn btn-small btn-stop"
                          aria-label={`Revoke ${key.name}`}
                          onClick={() => setRevoking(key)}
                        >
                          Revoke
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <NewKeyForm
        onCreated={(key) => {
          const { secret: _secret, ...listed } = key;
          onChanged(listed);
          setCreated(key);
        }}
      />

      {revoking && <RevokeDialog apiKey={revoking} onDone={onChanged} onClose={() => setRevoking(null)} />}
      {editing && <LimitsDialog apiKey={editing} onDone={onChanged} onClose={() => setEditing(null)} />}
      {created && <SecretDialog apiKey={created} onClose={() => setCreated(null)} />}
    </div>
  );
}

function LimitFields({
  idPrefix,
  requests,
  tokens,
  onRequests,
  onTokens,
}: {
  idPrefix: string;
  requests: string;
  tokens: string;
  onRequests: (text: string) => void;
  onTokens: (text: string) => void;
}) {
  const r = parseLimit(requests);
  const t = parseLimit(tokens);
  return (
    <>
      <div className="field">
        <label htmlFor={`${idPrefix}-rpm`}>Requests per minute</label>
        <input
          id={`${idPrefix}-rpm`}
          inputMode="numeric"
          placeholder="No limit"
          value={requests}
          aria-invalid={!r.ok}
          onChange={(e) => onRequests(e.target.value)}
        />
        {!r.ok && <small className="error-text">{r.reason}</small>}
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-tpm`}>Tokens per minute</label>
        <input
          id={`${idPrefix}-tpm`}
          inputMode="numeric"
          placeholder="No limit"
          value={tokens}
          aria-invalid={!t.ok}
          onChange={(e) => onTokens(e.target.value)}
        />
        {!t.ok && <small className="error-text">{t.reason}</small>}
      </div>
    </>
  );
}

function NewKeyForm({ onCreated }: { onCreated: (key: NewApiKey) => void }) {
  const { api } = useApp();
  const [name, setName] = useState('');
  const [role, setRole] = useState<ApiKeyRole>('user');
  const [requests, setRequests] = useState('');
  const [tokens, setTokens] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const r = parseLimit(requests);
  const t = parseLimit(tokens);
  const valid = name.trim() !== '' && r.ok && t.ok;

  async function create() {
    if (!r.ok || !t.ok) return;
    setSaving(true);
    try {
      const key = await keysApi.create(api, {
        name: name.trim(),
        role,
        requests_per_minute: r.value,
        tokens_per_minute: t.value,
      });
      setName('');
      setRequests('');
      setTokens('');
      setError(null);
      onCreated(key);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSaving(false);
    }
  }

  return (
    <form
      className="api-new-key"
      aria-labelledby="new-key-title"
      onSubmit={(e) => {
        e.preventDefault();
        void create();
      }}
    >
      <h4 id="new-key-title">New key</h4>
      <div className="api-new-key-grid">
        <div className="field">
          <label htmlFor="new-key-name">Name</label>
          <input
            id="new-key-name"
            value={name}
            maxLength={100}
            placeholder="e.g. Editor assistant"
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="new-key-role">Role</label>
          <select id="new-key-role" value={role} onChange={(e) => setRole(e.target.value as ApiKeyRole)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <LimitFields
          idPrefix="new-key"
          requests={requests}
          tokens={tokens}
          onRequests={setRequests}
          onTokens={setTokens}
        />
      </div>
      <dl className="api-roles small" data-testid="role-help">
        {ROLES.map((r) => (
          <div key={r} className={r === role ? 'chosen' : undefined}>
            <dt>{r}</dt>
            <dd>{ROLE_HELP[r]}</dd>
          </div>
        ))}
      </dl>
      {error && (
        <p className="inline-error" role="alert">
          Could not make the key: {error}
        </p>
      )}
      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={!valid || saving}>
          {saving ? 'Making…' : 'Make key'}
        </button>
      </div>
    </form>
  );
}

function SecretDialog({ apiKey, onClose }: { apiKey: NewApiKey; onClose: () => void }) {
  return (
    <Dialog
      title={`New key: ${apiKey.name}`}
      dismissable={false}
      wide
      footer={
        <button type="button" className="btn btn-primary" onClick={onClose}>
          Done
        </button>
      }
    >
      <p>
        Copy it now into the program that will use it. <strong>This key will not be shown again</strong>: Hearth keeps
        only a fingerprint of it.
      </p>
      <div className="api-secret">
        <code className="mono" data-testid="new-key-secret">
          {apiKey.secret}
        </code>
        <CopyButton text={apiKey.secret} label="Copy the key" />
      </div>
      <p className="small">
        Role {apiKey.role}: {ROLE_HELP[apiKey.role]}.
      </p>
    </Dialog>
  );
}

function RevokeDialog({
  apiKey,
  onDone,
  onClose,
}: {
  apiKey: ApiKey;
  onDone: (key: ApiKey) => void;
  onClose: () => void;
}) {
  const { api } = useApp();
  const toasts = useToasts();
  const [busy, setBusy] = useState(false);
  async function revoke() {
    setBusy(true);
    try {
      onDone(await keysApi.revoke(api, apiKey.id));
      toasts.show(`Revoked ${apiKey.name}.`);
      onClose();
    } catch (err) {
      toasts.show(`Could not revoke ${apiKey.name}: ${(err as Error).message}`, { tone: 'error' });
      setBusy(false);
    }
  }
  return (
    <Dialog
      title={`Revoke ${apiKey.name}?`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void revoke()}>
            Revoke
          </button>
        </>
      }
    >
      <p>
        Programs using this key ({apiKey.hint}) are refused from their next request. This cannot be undone; its recent
        calls stay in the list below.
      </p>
    </Dialog>
  );
}

function LimitsDialog({
  apiKey,
  onDone,
  onClose,
}: {
  apiKey: ApiKey;
  onDone: (key: ApiKey) => void;
  onClose: () => void;
}) {
  const { api } = useApp();
  const [requests, setRequests] = useState(apiKey.requests_per_minute?.toString() ?? '');
  const [tokens, setTokens] = useState(apiKey.tokens_per_minute?.toString() ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const r = parseLimit(requests);
  const t = parseLimit(tokens);
  async function save() {
    if (!r.ok || !t.ok) return;
    setBusy(true);
    try {
      onDone(await keysApi.setLimits(api, apiKey.id, { requests_per_minute: r.value, tokens_per_minute: t.value }));
      onClose();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  }
  return (
    <Dialog
      title={`Limits of ${apiKey.name}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="btn btn-primary"
            disabled={busy || !r.ok || !t.ok}
            onClick={() => void save()}
          >
            Save
          </button>
        </>
      }
    >
      <p className="small">Empty means no limit. A program over its limit is told to retry after a moment.</p>
      <div className="api-limits">
        <LimitFields
          idPrefix="edit-key"
          requests={requests}
          tokens={tokens}
          onRequests={setRequests}
          onTokens={setTokens}
        />
      </div>
      {error && (
        <p className="inline-error" role="alert">
          Could not save: {error}
        </p>
      )}
    </Dialog>
  );
}
