import { useCallback, useRef, useState } from 'react';
import { runtimeName } from '../onboarding/hardwareWords';
import { capabilities as capsApi, upgrade as upgradeApi } from '../api/endpoints';
import { waitForRestart } from '../api/restart';
import type { Capabilities, CpuBackend, Gpu } from '../api/types';
import { useApp, useBus } from '../app/context';
import { useAsync } from '../app/useAsync';
import { nameOf } from '../models/names';
import { useModels } from '../models/useModels';
import { Dialog } from '../ui/Dialog';
import { formatBytes, formatMs, plural } from '../ui/format';
import { Icon } from '../ui/Icon';
import { useToasts } from '../ui/Toasts';
import { useUpgrade } from './UpgradeFlow';

const MIB = 1024 * 1024;
// The CPU build shipped with the app: the one "Revert" goes back to.
const BUNDLED_RUNTIME = 'cpu-bundled';
const FLAG_ORDER = ['avx', 'avx2', 'avx512', 'fma', 'f16c'];

function GpuCard({ gpu, caps }: { gpu: Gpu; caps: Capabilities }) {
  const g = caps.hardware.gpu;
  return (
    <section className="card gpu-card" aria-label={`GPU ${gpu.index}: ${gpu.name}`} data-testid="gpu-card">
      <h3>
        <Icon name="chip" /> {gpu.name}
      </h3>
      <dl className="facts">
        <dt>VRAM</dt>
        <dd>
          {gpu.memory_total_mib !== null ? formatBytes(gpu.memory_total_mib * MIB) : '—'}
          {gpu.memory_free_mib !== null && ` (${formatBytes(gpu.memory_free_mib * MIB)} free)`}
        </dd>
        <dt>Driver</dt>
        <dd>{g.driver_version ?? '—'}</dd>
        <dt>CUDA (driver)</dt>
        <dd>{g.cuda_driver_version ?? '—'}</dd>
        <dt>Compute capability</dt>
        <dd>{gpu.compute_capability ?? 'unknown'}</dd>
      </dl>
    </section>
  );
}

/** "AVX2 (haswell), best of 13 for this CPU", as `hearth detect` says it. */
export function cpuBackendText(backend: CpuBackend | null | undefined): string {
  if (!backend) return '—';
  const label = backend.cpu_label ?? 'none loaded';
  if (backend.forced && backend.cpu_variant === backend.forced) return `${label}, forced by HEARTH_CPU_VARIANT`;
  if (backend.available.length > 0) return `${label}, best of ${backend.available.length} for this CPU`;
  return label;
}

function RuntimeCard({ caps }: { caps: Capabilities }) {
  const r = caps.runtime;
  const offload = r.offload;
  const models = useModels(); // the loaded model by the name the Models page gives it
  return (
    <section className="card" aria-label="Active runtime" data-testid="runtime-card">
      <h3>Active runtime</h3>
      <dl className="facts">
        <dt>Runtime</dt>
        <dd data-testid="runtime-id">
          {capitalize(runtimeName(r))} <span className="small">({r.id})</span>
        </dd>
        <dt>llama.cpp</dt>
        <dd>llama-cpp-python {r.llama_cpp_version ?? '—'}</dd>
        <dt>CPU backend</dt>
        <dd data-testid="cpu-backend">{cpuBackendText(r.cpu_backend)}</dd>
        <dt>GPU offload</dt>
        <dd>{r.supports_gpu_offload ? 'supported' : 'not in this runtime'}</dd>
        <dt>Loaded model</dt>
        <dd data-testid="offload">
          {offload
            ? `${nameOf(offload.model, models.models)}: ${offload.layers_offloaded ?? offload.plan.layers_on_gpu} of ${offload.plan.n_layers} layers on the GPU`
            : 'none loaded'}
        </dd>
      </dl>
      {offload && <p className="small">{offload.plan.reason}</p>}
      {r.error && (
        <p className="inline-error" role="alert">
          {r.error}
        </p>
      )}
      {r.cpu_backend?.error && (
        <p className="inline-error" role="alert" data-testid="cpu-backend-error">
          {r.cpu_backend.error}
        </p>
      )}
    </section>
  );
}

function CpuCard({ caps }: { caps: Capabilities }) {
  const cpu = caps.hardware.cpu;
  const mem = caps.hardware.memory;
  const flags = [
    ...FLAG_ORDER.filter((f) => f in cpu.flags),
    ...Object.keys(cpu.flags).filter((f) => !FLAG_ORDER.includes(f)),
  ];
  return (
    <section className="card" aria-label="CPU and memory" data-testid="cpu-card">
      <h3>CPU</h3>
      <dl className="facts">
        <dt>Model</dt>
        <dd>{cpu.model ?? '—'}</dd>
        <dt>Cores</dt>
        <dd>
          {cpu.cores !== null ? plural(cpu.cores, 'core') : '— cores'},{' '}
          {cpu.threads !== null ? plural(cpu.threads, 'thread') : '— threads'}
        </dd>
        <dt>Memory</dt>
        <dd>
          {formatBytes(mem.total_bytes)} ({formatBytes(mem.available_bytes)} available)
        </dd>
      </dl>
      <ul className="chips" aria-label="CPU instruction sets">
        {flags.map((flag) => (
          <li key={flag} className={`chip ${cpu.flags[flag] ? 'chip-on' : 'chip-off'}`}>
            {flag.toUpperCase()} {cpu.flags[flag] ? '✓' : '✗'}
            <span className="visually-hidden">{cpu.flags[flag] ? 'supported' : 'not supported'}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function UpgradeOffer({ caps, compact }: { caps: Capabilities; compact?: boolean }) {
  const { open } = useUpgrade();
  const rec = caps.recommendation;
  if (rec.upgrade) {
    return (
      <div className="offer offer-yes" data-testid="recommendation">
        <div>
          <strong>A GPU runtime is available for this computer.</strong>
          <p className="small">{rec.reason}</p>
        </div>
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => open({ kind: 'registry', recommendation: rec })}
        >
          Upgrade to GPU
        </button>
      </div>
    );
  }
  return (
    <div className="offer offer-no" data-testid="recommendation" data-code={rec.code}>
      {!compact && <strong>GPU upgrade not offered. </strong>}
      <span data-testid="recommendation-reason">{rec.reason}</span>
    </div>
  );
}

/** Settings → Hardware & runtime: what was detected, what runs, and the ways to change it. */
export function HardwarePanel() {
  const { api, bus, metrics } = useApp();
  const toasts = useToasts();
  const { data: caps, error, reload } = useAsync(() => capsApi.get(api), [api]);
  const [detecting, setDetecting] = useState(false);
  const [confirmRevert, setConfirmRevert] = useState(false);
  const [restarting, setRestarting] = useState<string | null>(null);
  const { open } = useUpgrade();
  const packInput = useRef<HTMLInputElement>(null);
  const [fresh, setFresh] = useState<Capabilities | null>(null);

  useBus(
    'capabilities',
    useCallback(() => {
      setFresh(null);
      void reload();
    }, [reload]),
  );

  const shown = fresh ?? caps;

  async function redetect() {
    setDetecting(true);
    try {
      const result = await capsApi.refresh(api);
      setFresh(result);
      toasts.show(`Hardware detected again in ${formatMs(result.detection.duration_ms)}.`);
    } catch (err) {
      toasts.show(`Detection failed: ${(err as Error).message}`, { tone: 'error' });
    } finally {
      setDetecting(false);
    }
  }

  async function revert() {
    setConfirmRevert(false);
    setRestarting('Switching back to the CPU runtime and restarting…');
    try {
      await upgradeApi.rollback(api);
      const outcome = await waitForRestart(api.connection);
      if (outcome === 'timeout') throw new Error('Hearth did not come back after the restart.');
      toasts.show('Hearth restarted on the CPU runtime.');
      metrics.kick();
      bus.emit('capabilities');
      bus.emit('models');
    } catch (err) {
      toasts.show(`Could not revert: ${(err as Error).message}`, { tone: 'error' });
    } finally {
      setRestarting(null);
    }
  }

  if (error && !shown) {
    return (
      <p className="inline-error" role="alert">
        Could not read the hardware: {error.message}{' '}
        <button type="button" className="btn btn-small" onClick={() => void reload()}>
          Retry
        </button>
      </p>
    );
  }
  if (!shown) return <p role="status">Detecting hardware…</p>;

  const gpu = shown.hardware.gpu;
  const lastRevert = shown.upgrade?.last_revert;
  return (
    <div className="hardware">
      {(shown.recommendation.upgrade || shown.recommendation.reason !== shown.hardware.gpu.reason) && (
        <UpgradeOffer caps={shown} />
      )}
      {lastRevert && (
        <p className="notice" role="note">
          Hearth went back to the CPU runtime
          {typeof lastRevert.reason === 'string' ? `: ${lastRevert.reason}` : '.'}
        </p>
      )}
      <div className="cards">
        {gpu.gpus.length > 0 ? (
          gpu.gpus.map((g) => <GpuCard key={g.index} gpu={g} caps={shown} />)
        ) : (
          <section className="card" aria-label="GPU" data-testid="no-gpu">
            <h3>No usable GPU</h3>
            <p>{gpu.reason}</p>
            <p className="small">Hearth runs on the CPU.</p>
          </section>
        )}
        <CpuCard caps={shown} />
        <RuntimeCard caps={shown} />
      </div>
      <p className="small detection-note">
        GPU detection: {gpu.reason} (
        {shown.detection.source && shown.detection.source !== 'none' ? `via ${shown.detection.source}; ` : ''}
        {shown.detection.cache.reason}).
      </p>
      <div className="button-row">
        <button type="button" className="btn" onClick={() => void redetect()} disabled={detecting}>
          <Icon name="refresh" size={16} /> {detecting ? 'Detecting…' : 'Re-detect hardware'}
        </button>
        <button type="button" className="btn" onClick={() => packInput.current?.click()}>
          <Icon name="upload" size={16} /> Install from file…
        </button>
        <input
          ref={packInput}
          type="file"
          accept=".zip,application/zip"
          className="visually-hidden"
          aria-label="Runtime pack file"
          tabIndex={-1}
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) open({ kind: 'pack', file });
          }}
        />
        {shown.runtime.id !== BUNDLED_RUNTIME && (
          <button type="button" className="btn" onClick={() => setConfirmRevert(true)}>
            Revert to CPU runtime
          </button>
        )}
      </div>
      {confirmRevert && (
        <Dialog
          title="Revert to the CPU runtime?"
          onClose={() => setConfirmRevert(false)}
          footer={
            <>
              <button type="button" className="btn" onClick={() => setConfirmRevert(false)}>
                Keep GPU runtime
              </button>
              <button type="button" className="btn btn-primary" onClick={() => void revert()}>
                Revert and restart
              </button>
            </>
          }
        >
          <p>
            Hearth switches back to the bundled CPU runtime and restarts. Running answers are stopped. The GPU runtime
            stays installed and can be made active again later.
          </p>
        </Dialog>
      )}
      {restarting && (
        <Dialog title="Restarting…" dismissable={false}>
          <p role="status">{restarting}</p>
        </Dialog>
      )}
    </div>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
