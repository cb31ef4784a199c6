import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef } from 'react';
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';
import { upgrade } from '../api/endpoints';
import type { UpgradeJob } from '../api/types';
import { uploadFile } from '../api/upload';
import { useApp } from '../app/context';
import { Dialog } from '../ui/Dialog';
import { formatBytes, plural } from '../ui/format';
import { Progress } from '../ui/Progress';
import { uiPrefs } from '../ui/uiPrefs';
import { STAGES, cancellable, consentFacts, isTerminal, stageLabel, stageStatus, upgradeReducer } from './upgrade';
import type { UpgradePhase, UpgradeSource } from './upgrade';

// A result older than this is not shown on its own at startup (it was seen in another window).
const RECENT_S = 15 * 60;
const RESTART_TIMEOUT_MS = 180_000;

interface UpgradeControl {
  phase: UpgradePhase;
  open: (source: UpgradeSource) => void;
}

const UpgradeContext = createContext<UpgradeControl>({ phase: { kind: 'closed' }, open: () => undefined });

export function useUpgrade(): UpgradeControl {
  return useContext(UpgradeContext);
}

function seconds(value: number | string | null): number | null {
  if (value === null) return null;
  if (typeof value === 'number') return value > 1e12 ? value / 1000 : value;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed / 1000;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Owns the upgrade dialog for the whole app, so onboarding and Settings open the same flow,
 *  and a result is shown after the restart even when the page itself was reloaded. */
export function UpgradeHost({ children }: { children: ReactNode }) {
  const { api, bus, metrics } = useApp();
  const [phase, dispatch] = useReducer(upgradeReducer, { kind: 'closed' } as UpgradePhase);
  const phaseRef = useRef(phase);
  phaseRef.current = phase;

  const open = useCallback((source: UpgradeSource) => dispatch({ type: 'open', source }), []);

  // At startup: an upgrade still running (the page was reloaded) or a fresh result to show.
  useEffect(() => {
    let live = true;
    upgrade
      .current(api)
      .then(({ job }) => {
        if (!live || !job) return;
        if (!isTerminal(job)) {
          dispatch({ type: 'job', job });
          return;
        }
        const at = seconds(job.updated_at);
        const recent = at !== null && Date.now() / 1000 - at < RECENT_S;
        if (recent && uiPrefs.get().upgrade_seen !== job.id && job.state !== 'cancelled') {
          dispatch({ type: 'job', job });
        }
      })
      .catch(() => undefined); // a backend without the upgrade API: nothing to show
    return () => {
      live = false;
    };
  }, [api]);

  // Starting: from the registry's recommendation, or by uploading an offline pack.
  useEffect(() => {
    if (phase.kind !== 'starting' || phase.uploaded !== undefined) return;
    const { source } = phase;
    (async () => {
      try {
        const job =
          source.kind === 'registry'
            ? await upgrade.start(api, source.recommendation.variant?.id)
            : await uploadFile<UpgradeJob>(api, '/api/admin/upgrade-gpu/pack', source.file, {
                // The person's own file name, for messages about it (the backend keeps its own).
                query: { filename: source.file.name },
                onProgress: ({ loaded, total }) => dispatch({ type: 'uploading', loaded, total }),
              });
        dispatch({ type: 'job', job });
      } catch (err) {
        dispatch({ type: 'start-failed', message: (err as Error).message });
      }
    })();
  }, [api, phase]);

  // Running: follow the job's events; a broken stream while switching is the restart.
  const jobId = phase.kind === 'running' || phase.kind === 'cancelling' ? phase.job.id : null;
  useEffect(() => {
    if (!jobId) return;
    const controller = new AbortController();
    (async () => {
      try {
        for await (const { data } of upgrade.events(api, jobId, controller.signal)) {
          if (data && typeof data === 'object') dispatch({ type: 'job', job: data });
        }
        if (!controller.signal.aborted) {
          const job = await upgrade.get(api, jobId);
          dispatch({ type: 'job', job });
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        if (err instanceof ApiError && err.status !== 0) {
          dispatch({ type: 'gave-up', message: err.message });
        } else {
          dispatch({ type: 'connection-lost' });
        }
      }
    })();
    return () => controller.abort();
  }, [api, jobId]);

  // Restarting: keep asking until a new backend answers with the job past the restart.
  const restarting = phase.kind === 'restarting';
  const restartJobId = phase.kind === 'restarting' ? (phase.job?.id ?? null) : null;
  useEffect(() => {
    if (!restarting) return;
    let live = true;
    (async () => {
      const started = Date.now();
      while (live && Date.now() - started < RESTART_TIMEOUT_MS) {
        await api.connection.reask().catch(() => null);
        try {
          const job = restartJobId
            ? await upgrade.get(api, restartJobId).catch(async (err) => {
                // A new process may only know its last job through the current-job route.
                if (err instanceof ApiError && err.status === 404) return (await upgrade.current(api)).job;
                throw err;
              })
            : (await upgrade.current(api)).job;
          if (!live) return;
          if (job) dispatch({ type: 'job', job });
        } catch {
          if (live) dispatch({ type: 'backend-down' });
        }
        await sleep(1000);
      }
      if (live) dispatch({ type: 'gave-up', message: 'Hearth did not come back after the restart.' });
    })();
    return () => {
      live = false;
    };
  }, [api, restarting, restartJobId]);

  // A result: the hardware page must show the new runtime; remember it was seen.
  const resultId = phase.kind === 'result' ? phase.job.id : null;
  useEffect(() => {
    if (!resultId) return;
    uiPrefs.set({ upgrade_seen: resultId });
    bus.emit('capabilities');
    bus.emit('models');
    metrics.kick();
  }, [bus, metrics, resultId]);

  const control = useMemo(() => ({ phase, open }), [phase, open]);
  return (
    <UpgradeContext.Provider value={control}>
      {children}
      {phase.kind !== 'closed' && (
        <UpgradeDialog
          phase={phase}
          onStart={() => dispatch({ type: 'start' })}
          onClose={() => dispatch({ type: 'close' })}
          onCancel={async () => {
            if (phase.kind !== 'running') return;
            dispatch({ type: 'cancel' });
            try {
              dispatch({ type: 'job', job: await upgrade.cancel(api, phase.job.id) });
            } catch {
              // the event stream reports what happened
            }
          }}
        />
      )}
    </UpgradeContext.Provider>
  );
}

interface DialogProps {
  phase: Exclude<UpgradePhase, { kind: 'closed' }>;
  onStart: () => void;
  onClose: () => void;
  onCancel: () => void;
}

function UpgradeDialog({ phase, onStart, onClose, onCancel }: DialogProps) {
  switch (phase.kind) {
    case 'consent':
    case 'start-failed':
      return (
        <Dialog
          title={phase.source.kind === 'pack' ? 'Install a runtime pack' : 'Upgrade to GPU'}
          onClose={onClose}
          wide
          footer={
            <>
              <button type="button" className="btn" onClick={onClose}>
                Not now
              </button>
              <button type="button" className="btn btn-primary" onClick={onStart} data-autofocus>
                {phase.source.kind === 'pack' ? 'Install' : 'Download and install'}
              </button>
            </>
          }
        >
          <Consent source={phase.source} />
          {phase.kind === 'start-failed' && (
            <p className="inline-error" role="alert">
              Could not start: {phase.message}
            </p>
          )}
        </Dialog>
      );
    case 'starting':
      return (
        <Dialog title="Upgrade to GPU" dismissable={false}>
          {phase.source.kind === 'pack' && phase.uploaded !== undefined ? (
            <Progress label="Uploading the runtime pack" done={phase.uploaded} total={phase.total} />
          ) : (
            <p role="status">Starting…</p>
          )}
        </Dialog>
      );
    case 'running':
    case 'cancelling':
      return (
        <Dialog
          title={phase.job.kind === 'cpu' ? 'Installing the runtime' : 'Upgrading to GPU'}
          dismissable={false}
          wide
          footer={
            <button
              type="button"
              className="btn"
              onClick={onCancel}
              disabled={phase.kind === 'cancelling' || !cancellable(phase.job)}
            >
              {phase.kind === 'cancelling' ? 'Cancelling…' : 'Cancel'}
            </button>
          }
        >
          <JobProgress job={phase.job} />
        </Dialog>
      );
    case 'restarting':
      return (
        <Dialog title="Restarting…" dismissable={false} wide>
          {phase.job && <StageList job={phase.job} />}
          <p role="status" className="restart-note">
            Hearth is restarting on the new runtime{phase.backendDown ? ' and will reconnect by itself' : ''}…
          </p>
        </Dialog>
      );
    case 'result':
      return (
        <Dialog
          title={resultTitle(phase.job)}
          onClose={onClose}
          wide
          footer={
            <button type="button" className="btn btn-primary" onClick={onClose} data-autofocus>
              Close
            </button>
          }
        >
          <Result job={phase.job} />
        </Dialog>
      );
    case 'lost':
      return (
        <Dialog
          title="Upgrade status unknown"
          onClose={onClose}
          footer={
            <button type="button" className="btn btn-primary" onClick={onClose}>
              Close
            </button>
          }
        >
          <p role="alert">{phase.message}</p>
          <p>Settings → Hardware &amp; runtime shows which runtime is active.</p>
        </Dialog>
      );
  }
}

function resultTitle(job: UpgradeJob): string {
  const gpu = job.kind !== 'cpu';
  if (job.state === 'done') return gpu ? 'Hearth now uses the GPU' : 'The new runtime is active';
  if (job.state === 'cancelled') return 'Upgrade cancelled';
  return gpu ? 'The GPU upgrade did not complete' : 'The runtime was not installed';
}

function Consent({ source }: { source: UpgradeSource }) {
  if (source.kind === 'pack') {
    return (
      <div className="consent">
        <p>
          Hearth will install the runtime pack <strong>{source.file.name}</strong> ({formatBytes(source.file.size)})
          from this computer. Nothing is downloaded.
        </p>
        <p>
          The pack is checked against the runtime registry's pinned checksums, tested in a separate process, and only
          then made active; Hearth restarts to use it. If anything fails, Hearth stays on the CPU runtime.
        </p>
      </div>
    );
  }
  const { recommendation } = source;
  const facts = consentFacts(recommendation);
  const variant = recommendation.variant;
  return (
    <div className="consent">
      <p>{recommendation.reason}</p>
      {variant && (
        <p>
          <strong>What is installed:</strong> {variant.description || `the ${variant.id} runtime`}
        </p>
      )}
      <dl className="facts">
        <dt>Download size</dt>
        <dd data-testid="consent-size">{facts.totalBytes !== null ? formatBytes(facts.totalBytes) : 'unknown'}</dd>
        <dt>From</dt>
        <dd data-testid="consent-hosts">{facts.hosts.join(', ') || '—'}</dd>
      </dl>
      <details>
        <summary>{plural(facts.files.length, 'file')}</summary>
        <ul className="artifact-list">
          {facts.files.map((f) => (
            <li key={f.url}>
              <span className="mono">{f.name}</span> — {formatBytes(f.size)}
              <br />
              <span className="mono small">{f.url}</span>
            </li>
          ))}
        </ul>
      </details>
      <p className="small">
        Every file is checked against the checksum Hearth knows for it before use. The GPU runtime is tested in a
        separate process before Hearth switches to it and restarts. If it fails, Hearth goes back to the CPU runtime by
        itself.
      </p>
    </div>
  );
}

function StageList({ job }: { job: UpgradeJob }) {
  return (
    <ol className="stages" aria-label="Upgrade steps">
      {STAGES.map(({ stage, label }) => {
        const status = stageStatus(stage, job.stage);
        return (
          <li key={stage} className={`stage stage-${status}`} aria-current={status === 'current' ? 'step' : undefined}>
            <span className="stage-mark" aria-hidden="true">
              {status === 'done' ? '✓' : status === 'current' ? '•' : ''}
            </span>
            {label}
          </li>
        );
      })}
    </ol>
  );
}

function JobProgress({ job }: { job: UpgradeJob }) {
  return (
    <div className="job-progress">
      <StageList job={job} />
      <p role="status" aria-live="polite" className="stage-now" data-testid="upgrade-stage">
        {stageLabel(job.stage)}…
      </p>
      {job.message && <p className="small">{job.message}</p>}
      {(job.stage === 'downloading' || job.bytes_total) && (
        <Progress
          label="Download progress"
          done={job.bytes_done}
          total={job.bytes_total}
          rate={job.rate}
          eta={job.eta_seconds}
        />
      )}
    </div>
  );
}

function Result({ job }: { job: UpgradeJob }) {
  if (job.state === 'done') {
    const r = job.result;
    return (
      <div className="result result-ok" data-testid="upgrade-result">
        <p>
          {job.kind === 'cpu' ? 'The runtime' : 'The GPU runtime'}
          {job.variant ? ` (${job.variant})` : ''} passed its test and is active.
        </p>
        {r && <p className="table-title">Measured speed on this computer</p>}
        {r && (
          <table className="speed-table" aria-label="Measured speed on this computer">
            <tbody>
              <tr>
                <th scope="row">CPU runtime</th>
                <td>{r.cpu_tokens_per_s !== null ? `${r.cpu_tokens_per_s.toFixed(1)} tokens/s` : '—'}</td>
              </tr>
              <tr>
                <th scope="row">{job.kind === 'cpu' ? 'New runtime' : 'GPU runtime'}</th>
                <td>{r.new_tokens_per_s !== null ? `${r.new_tokens_per_s.toFixed(1)} tokens/s` : '—'}</td>
              </tr>
              {r.speedup !== null && (
                <tr>
                  <th scope="row">Speed-up</th>
                  <td>{r.speedup.toFixed(1)}×</td>
                </tr>
              )}
              {r.offloaded_layers !== null && (
                <tr>
                  <th scope="row">Layers on the GPU</th>
                  <td>{r.offloaded_layers}</td>
                </tr>
              )}
            </tbody>
          </table>
        )}
      </div>
    );
  }
  if (job.state === 'cancelled') {
    return <p data-testid="upgrade-result">Nothing was changed; Hearth keeps using the CPU runtime.</p>;
  }
  return (
    <div className="result result-failed" data-testid="upgrade-result">
      <p role="alert">
        <strong>Reason:</strong> {job.error?.message ?? 'unknown'}
      </p>
      <p>
        {job.reverted_to_cpu
          ? 'Hearth went back to the CPU runtime and works as before.'
          : 'Hearth is still on the CPU runtime and works as before.'}
      </p>
    </div>
  );
}
