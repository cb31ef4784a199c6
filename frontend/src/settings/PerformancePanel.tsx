import { useCallback, useEffect, useState } from 'react';
import { preferences as prefsApi } from '../api/endpoints';
import type { OffloadEstimate, PreferencesDoc, PreferenceValues } from '../api/types';
import { useApp, useBus } from '../app/context';
import { nameOf } from '../models/names';
import { useModels } from '../models/useModels';
import { formatBytes } from '../ui/format';
import { NumberField } from '../ui/NumberField';
import { useToasts } from '../ui/Toasts';

export const CONTEXT_SIZES = [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];

export const PARALLEL_CHOICES = [1, 2, 4, 8];

type Form = Pick<PreferenceValues, 'n_threads' | 'n_ctx' | 'n_gpu_layers' | 'n_parallel'>;

function formOf(doc: PreferencesDoc): Form {
  const { n_threads, n_ctx, n_gpu_layers, n_parallel } = doc.preferences;
  return { n_threads, n_ctx, n_gpu_layers, n_parallel };
}

/** The changed fields only, so an untouched one keeps following the environment. */
export function changes(before: Form, after: Form): Partial<Form> {
  const out: Partial<Form> = {};
  for (const key of ['n_threads', 'n_ctx', 'n_gpu_layers', 'n_parallel'] as const) {
    if (before[key] !== after[key]) out[key] = after[key];
  }
  return out;
}

/** What the estimate line says for a layer count (or Auto: the planner's own choice). */
export function estimateText(estimate: OffloadEstimate, layers: number | null): string {
  const free = estimate.free_vram_bytes !== null ? ` of ${formatBytes(estimate.free_vram_bytes)} free` : '';
  if (layers === null) {
    const plan = estimate.auto;
    return `Auto: ${plan.layers_on_gpu} of ${plan.n_layers} layers, about ${formatBytes(plan.estimated_vram_bytes)} VRAM${free}. ${plan.reason}`;
  }
  const n = layers < 0 ? estimate.n_layers : Math.min(layers, estimate.n_layers);
  const bytes = estimate.estimates[n] ?? 0;
  const over = estimate.free_vram_bytes !== null && bytes > estimate.free_vram_bytes;
  return `${n} of ${estimate.n_layers} layers: about ${formatBytes(bytes)} VRAM${free}${over ? ' — more than is free; loading may fail and step down.' : '.'}`;
}

/** Settings → Performance: GPU layers, threads and context size, applied on the next load. */
export function PerformancePanel({ cpuThreads }: { cpuThreads: number | null }) {
  const { api } = useApp();
  const toasts = useToasts();
  const models = useModels(); // for the model's name, as the Models page shows it
  const [doc, setDoc] = useState<PreferencesDoc | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [estimate, setEstimate] = useState<OffloadEstimate | null>(null);
  const [estimateError, setEstimateError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const load = useCallback(async () => {
    try {
      const loaded = await prefsApi.get(api);
      setDoc(loaded);
      setForm(formOf(loaded));
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
    try {
      setEstimate(await prefsApi.offload(api));
      setEstimateError(null);
    } catch (err) {
      setEstimateError((err as Error).message);
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);
  useBus('capabilities', load);
  useBus('models', load);

  if (error && !doc) {
    return (
      <p className="inline-error" role="alert">
        Could not read the preferences: {error}
      </p>
    );
  }
  if (!doc || !form) return <p role="status">Loading…</p>;

  const pending = changes(formOf(doc), form);
  const dirty = Object.keys(pending).length > 0;
  const envCtx = doc.effective.sources.n_ctx === 'environment' ? doc.effective.n_ctx : 4096;
  const envParallel = doc.effective.sources.n_parallel === 'environment' ? (doc.effective.n_parallel ?? 1) : 1;
  const maxThreads = Math.max(1, cpuThreads ?? doc.bounds.n_threads?.maximum ?? 64);
  const manualLayers = form.n_gpu_layers !== null;
  // A runtime that cannot offload has nothing to set: no slider and no "0 B of VRAM" (a layer
  // count set before stays visible, so it can be cleared).
  const cpuOnly = estimate !== null && !estimate.gpu_offload && !manualLayers;
  const nLayers = estimate?.n_layers ?? 0;

  async function save() {
    setSaving(true);
    try {
      const saved = await prefsApi.put(api, pending);
      setDoc(saved);
      setForm(formOf(saved));
      toasts.show(saved.unloaded ? 'Saved. The model reloads with these settings on the next answer.' : 'Saved.');
    } catch (err) {
      toasts.show(`Could not save: ${(err as Error).message}`, { tone: 'error' });
    } finally {
      setSaving(false);
    }
    // The context size changes the KV cache, and so the estimate.
    setEstimate(await prefsApi.offload(api).catch(() => estimate));
  }

  return (
    <form
      className="performance"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      {doc.problem && (
        <p className="notice" role="note">
          {doc.problem}
        </p>
      )}
      {cpuOnly ? (
        <fieldset data-testid="gpu-layers-cpu-only">
          <legend>GPU layers</legend>
          <p className="small">
            None: the active runtime runs models on the processor. After an upgrade to GPU (Hardware, above), this is
            where you choose how much of a model goes to the graphics card.
          </p>
        </fieldset>
      ) : (
        <fieldset>
          <legend>GPU layers</legend>
          <div className="radio-row">
            <label>
              <input
                type="radio"
                name="gpu-layers"
                checked={!manualLayers}
                onChange={() => setForm({ ...form, n_gpu_layers: null })}
              />
              Auto (the planner decides from free VRAM)
            </label>
            <label>
              <input
                type="radio"
                name="gpu-layers"
                checked={manualLayers}
                onChange={() => setForm({ ...form, n_gpu_layers: estimate?.auto.layers_on_gpu ?? 0 })}
              />
              Manual
            </label>
          </div>
          {manualLayers && (
            <div className="slider-row">
              <label htmlFor="gpu-layers-range">Layers on the GPU</label>
              <input
                id="gpu-layers-range"
                type="range"
                min={0}
                max={Math.max(nLayers, 1)}
                value={form.n_gpu_layers === -1 ? nLayers : (form.n_gpu_layers ?? 0)}
                onChange={(e) => setForm({ ...form, n_gpu_layers: Number(e.target.value) })}
                aria-describedby="gpu-layers-estimate"
              />
              <output htmlFor="gpu-layers-range">
                {form.n_gpu_layers === -1 ? 'all' : form.n_gpu_layers} / {nLayers || '?'}
              </output>
            </div>
          )}
          <p id="gpu-layers-estimate" className="small estimate" data-testid="vram-estimate">
            {estimate
              ? estimateText(estimate, form.n_gpu_layers)
              : estimateError
                ? `No estimate: ${estimateError}`
                : 'Estimating…'}
          </p>
          {estimate && !estimate.gpu_offload && (
            <p className="small">
              The active runtime runs on the CPU only; GPU layers take effect after an upgrade to GPU.
            </p>
          )}
        </fieldset>
      )}

      <fieldset>
        <legend>CPU threads</legend>
        <div className="radio-row">
          <label>
            <input
              type="radio"
              name="threads"
              checked={form.n_threads === null}
              onChange={() => setForm({ ...form, n_threads: null })}
            />
            Auto
            {doc.effective.sources.n_threads === 'environment' && doc.effective.n_threads
              ? ` (${doc.effective.n_threads} from the environment)`
              : ' (physical cores)'}
          </label>
          <label>
            <input
              type="radio"
              name="threads"
              checked={form.n_threads !== null}
              onChange={() => setForm({ ...form, n_threads: Math.max(1, Math.min(maxThreads, cpuThreads ?? 4)) })}
            />
            Manual
          </label>
          {form.n_threads !== null && (
            <span className="inline-field">
              <label htmlFor="threads-input" className="visually-hidden">
                Threads
              </label>
              <NumberField
                id="threads-input"
                min={1}
                max={maxThreads}
                integer
                value={form.n_threads}
                onChange={(n) => setForm({ ...form, n_threads: n })}
              />
            </span>
          )}
        </div>
      </fieldset>

      <fieldset>
        <legend>Context size</legend>
        <label htmlFor="ctx-select" className="visually-hidden">
          Context size in tokens
        </label>
        <select
          id="ctx-select"
          value={form.n_ctx ?? ''}
          onChange={(e) => setForm({ ...form, n_ctx: e.target.value ? Number(e.target.value) : null })}
        >
          <option value="">Default ({envCtx.toLocaleString()} tokens)</option>
          {CONTEXT_SIZES.map((n) => (
            <option key={n} value={n}>
              {n.toLocaleString()} tokens
            </option>
          ))}
          {form.n_ctx !== null && !CONTEXT_SIZES.includes(form.n_ctx) && (
            <option value={form.n_ctx}>{form.n_ctx.toLocaleString()} tokens</option>
          )}
        </select>
        <p className="small" data-testid="context-help">
          Longer context remembers more of the conversation but uses more memory. It is capped at what the model was
          trained for. {estimate ? contextText(estimate, nameOf(estimate.model, models.models)) : ''}
        </p>
      </fieldset>

      <fieldset>
        <legend>Parallel answers</legend>
        <label htmlFor="parallel-select" className="visually-hidden">
          Answers generated at once
        </label>
        <select
          id="parallel-select"
          value={form.n_parallel ?? ''}
          onChange={(e) => setForm({ ...form, n_parallel: e.target.value ? Number(e.target.value) : null })}
        >
          <option value="">Default ({envParallel} at once)</option>
          {PARALLEL_CHOICES.map((n) => (
            <option key={n} value={n}>
              {n === 1 ? 'One at a time' : `${n} at once`}
            </option>
          ))}
        </select>
        <p className="small" data-testid="parallel-help">
          {parallelText(form.n_parallel ?? envParallel)}
        </p>
      </fieldset>

      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={!dirty || saving}>
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="btn" disabled={!dirty || saving} onClick={() => setForm(formOf(doc))}>
          Undo changes
        </button>
        <span className="small">Applied on the next answer: the model reloads.</span>
      </div>
    </form>
  );
}

/** What N parallel answers mean for the person: who gains, and what it costs. */
export function parallelText(n: number): string {
  if (n <= 1) {
    return 'One answer at a time; others wait in line. Several at once helps programs that use the local API server, or batches.';
  }
  return `Up to ${n} answers are generated together (the rest wait in line), each with the whole context. Memory for the context grows ${n} times; together they finish sooner than one after another.`;
}

/** Both numbers, so that "uses 4,096" next to the Models page's "8,192" is not a contradiction. */
export function contextText(
  estimate: Pick<OffloadEstimate, 'model' | 'n_ctx' | 'trained_ctx'>,
  name: string = estimate.model,
): string {
  const uses = estimate.n_ctx.toLocaleString();
  if (!estimate.trained_ctx) return `${name} uses ${uses} tokens now.`;
  const trained = estimate.trained_ctx.toLocaleString();
  if (estimate.trained_ctx === estimate.n_ctx) return `${name} uses all ${trained} tokens it was trained for.`;
  return `${name} was trained for ${trained} tokens and uses ${uses} now.`;
}
