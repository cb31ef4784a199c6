import { useEffect, useRef, useState } from 'react';
import { useCatalogue } from './useCatalogue';
import { engine, models as modelsApi, preferences as prefsApi } from '../api/endpoints';
import type { CatalogueEntry, DownloadJob, ModelEntry, ToolFormat } from '../api/types';
import { uploadFile } from '../api/upload';
import { useApp } from '../app/context';
import { Dialog } from '../ui/Dialog';
import { formatBytes, formatCount } from '../ui/format';
import { Icon } from '../ui/Icon';
import { Progress } from '../ui/Progress';
import { useToasts } from '../ui/Toasts';
import { FitBadge } from './FitBadge';
import { fileStem, modelName } from './names';
import { isChatModel, useModels } from './useModels';

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

/** Why a model is badged "tools": its own chat template writes tool calls in a format the /v1
 *  API reads (which one, by the backend's name for it). Every other chat model gets Hearth's
 *  instructions for calls instead. */
const TOOL_FORMATS: Record<Exclude<ToolFormat, 'generic'>, string> = {
  hermes: '<tool_call> tags (Hermes, Qwen)',
  llama3: '{"name", "parameters"} (Llama 3.1 and later)',
  mistral: '[TOOL_CALLS] (Mistral)',
};

function toolsTitle(format: Exclude<ToolFormat, 'generic'>): string {
  return `Calls tools in its own format: ${TOOL_FORMATS[format]}. The /v1 API passes it tools and reads its calls.`;
}

interface Upload {
  name: string;
  loaded: number;
  total: number;
  controller: AbortController;
}

function ImportZone() {
  const { api, bus } = useApp();
  const toasts = useToasts();
  const [upload, setUpload] = useState<Upload | null>(null);
  const [over, setOver] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  async function importFiles(files: File[]) {
    setError(null);
    for (const file of files) {
      if (!file.name.toLowerCase().endsWith('.gguf')) {
        setError(`${file.name} is not a .gguf file.`);
        continue;
      }
      const controller = new AbortController();
      setUpload({ name: file.name, loaded: 0, total: file.size, controller });
      try {
        const entry = await uploadFile<ModelEntry>(api, '/api/models/upload', file, {
          query: { filename: file.name },
          signal: controller.signal,
          onProgress: ({ loaded, total }) => setUpload((u) => (u ? { ...u, loaded, total } : u)),
        });
        toasts.show(`Imported ${modelName(entry)}.`);
        bus.emit('models');
      } catch (err) {
        if ((err as Error).name === 'AbortError') toasts.show(`Import of ${file.name} cancelled.`);
        else setError(`${file.name}: ${(err as Error).message}`);
      } finally {
        setUpload(null);
      }
    }
  }

  return (
    <div
      className={`drop-zone${over ? ' over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        void importFiles(Array.from(e.dataTransfer.files));
      }}
      data-testid="drop-zone"
    >
      {upload ? (
        <div className="upload">
          <p role="status">Importing {upload.name}…</p>
          <Progress label={`Upload of ${upload.name}`} done={upload.loaded} total={upload.total} />
          <button type="button" className="btn btn-small" onClick={() => upload.controller.abort()}>
            Cancel
          </button>
        </div>
      ) : (
        <>
          <Icon name="upload" size={22} />
          <p>Drop a .gguf file here, or</p>
          <button type="button" className="btn" onClick={() => input.current?.click()}>
            Choose a file…
          </button>
          <input
            ref={input}
            type="file"
            accept=".gguf"
            multiple
            className="visually-hidden"
            tabIndex={-1}
            aria-label="GGUF model file"
            onChange={(e) => {
              const files = Array.from(e.target.files ?? []);
              e.target.value = '';
              void importFiles(files);
            }}
          />
        </>
      )}
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function InstalledModels() {
  const { api, bus } = useApp();
  const toasts = useToasts();
  const state = useModels();
  const [confirm, setConfirm] = useState<ModelEntry | null>(null);
  // The model a Load or an Eject is under way for; one at a time (there is one engine).
  const [busy, setBusy] = useState<string | null>(null);
  const defaultModel = state.defaultModel;

  async function makeDefault(m: ModelEntry) {
    try {
      await prefsApi.put(api, { default_model: m.id });
      toasts.show(`${modelName(m)} is the default model.`);
      bus.emit('models');
    } catch (err) {
      toasts.show(`Could not set the default: ${(err as Error).message}`, { tone: 'error' });
    }
  }

  async function load(m: ModelEntry) {
    setBusy(m.id);
    try {
      await engine.load(api, m.id);
      toasts.show(`${modelName(m)} is loaded.`);
    } catch (err) {
      toasts.show(`Could not load ${modelName(m)}: ${(err as Error).message}`, { tone: 'error' });
    } finally {
      setBusy(null);
      bus.emit('models');
    }
  }

  async function eject(m: ModelEntry) {
    setBusy(m.id);
    try {
      await engine.unload(api);
      toasts.show(`${modelName(m)} is ejected; the next answer loads a model again.`);
    } catch (err) {
      toasts.show(`Could not eject: ${(err as Error).message}`, { tone: 'error' });
    } finally {
      setBusy(null);
      bus.emit('models');
    }
  }

  async function remove(entry: ModelEntry) {
    setConfirm(null);
    try {
      await modelsApi.remove(api, entry.id);
      if (state.defaultSource === 'preference' && defaultModel === entry.id) {
        await prefsApi.put(api, { default_model: null }).catch(() => undefined);
      }
      toasts.show(`Deleted ${modelName(entry)}.`);
      bus.emit('models');
    } catch (err) {
      toasts.show(`Could not delete: ${(err as Error).message}`, { tone: 'error' });
    }
  }

  if (state.error && state.models.length === 0) {
    return (
      <p className="inline-error" role="alert">
        {state.error}
      </p>
    );
  }
  const loaded = state.loaded?.model;
  return (
    <>
      <div className="table-wrap">
        <table className="models-table">
          <caption className="visually-hidden">Installed models</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Size</th>
              <th scope="col">Quantization</th>
              <th scope="col">Context</th>
              <th scope="col">Parameters</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {state.models.map((m) => {
              const name = modelName(m);
              const chat = isChatModel(m);
              return (
                <tr key={m.id} className={m.ok ? '' : 'broken'} data-testid="model-row">
                  <th scope="row">
                    <span className="model-name">{name}</span>
                    <span className="badges">
                      {m.kind === 'embedding' && <span className="badge">embedding</span>}
                      {m.ok && m.kind !== 'embedding' && !chat && (
                        <span className="badge" title="No chat template: the chat does not offer it.">
                          not for chat
                        </span>
                      )}
                      {m.id === defaultModel && (
                        <span
                          className="badge badge-accent"
                          title={
                            state.defaultSource === 'preference'
                              ? 'New chats start with this model: you chose it.'
                              : 'New chats start with this model, until you make another the default.'
                          }
                        >
                          default
                        </span>
                      )}
                      {chat && m.info && m.info.tool_format !== 'generic' && (
                        <span className="badge" title={toolsTitle(m.info.tool_format)}>
                          tools
                        </span>
                      )}
                      {m.id === loaded && <span className="badge badge-good">loaded</span>}
                      <FitBadge fit={m.fit} />
                    </span>
                    {fileStem(m.id) !== name && <span className="small model-file">{m.id}</span>}
                    {m.error && <span className="small error-text">{m.error.message}</span>}
                  </th>
                  <td>{formatBytes(m.size)}</td>
                  <td>{m.info?.quantization ?? '—'}</td>
                  <td>{m.info?.context_length ? m.info.context_length.toLocaleString() : '—'}</td>
                  <td>{m.info ? formatCount(m.info.parameter_count) : '—'}</td>
                  <td>
                    <div className="row-actions">
                      {chat && m.id !== loaded && (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={busy !== null}
                          aria-label={`Load ${name}`}
                          onClick={() => void load(m)}
                        >
                          <Icon name="play" size={14} /> {busy === m.id ? 'Loading…' : 'Load'}
                        </button>
                      )}
                      {m.id === loaded && (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={busy !== null}
                          aria-label={`Eject ${name}`}
                          onClick={() => void eject(m)}
                        >
                          {busy === m.id ? 'Ejecting…' : 'Eject'}
                        </button>
                      )}
                      {chat && m.id !== defaultModel && (
                        <button
                          type="button"
                          className="btn btn-small"
                          aria-label={`Make ${name} the default`}
                          onClick={() => void makeDefault(m)}
                        >
                          <Icon name="star" size={14} /> Make default
                        </button>
                      )}
                      <button
                        type="button"
                        className="icon-btn"
                        aria-label={`Delete ${name}`}
                        onClick={() => setConfirm(m)}
                      >
                        <Icon name="trash" size={16} />
                      </button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {state.ready && state.models.length === 0 && <p className="side-note">No models installed yet.</p>}
      </div>
      {confirm && (
        <Dialog
          title={`Delete ${modelName(confirm)}?`}
          onClose={() => setConfirm(null)}
          footer={
            <>
              <button type="button" className="btn" onClick={() => setConfirm(null)}>
                Keep it
              </button>
              <button type="button" className="btn btn-danger" onClick={() => void remove(confirm)}>
                Delete
              </button>
            </>
          }
        >
          <p>The file ({formatBytes(confirm.size)}) is removed from the models folder. Conversations are kept.</p>
        </Dialog>
      )}
    </>
  );
}

export function CatalogueRow({ entry, onChanged }: { entry: CatalogueEntry; onChanged: () => void }) {
  const { api, bus } = useApp();
  const [job, setJob] = useState<DownloadJob | null>(entry.download);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setJob(entry.download), [entry.download]);

  const jobId = job && !TERMINAL.has(job.state) ? job.id : null;
  useEffect(() => {
    if (!jobId) return;
    const controller = new AbortController();
    (async () => {
      try {
        for await (const { data } of modelsApi.downloadEvents(api, jobId, controller.signal)) {
          setJob(data);
          if (TERMINAL.has(data.state)) {
            if (data.state === 'done') bus.emit('models');
            onChanged();
          }
        }
      } catch (err) {
        if (!controller.signal.aborted) setError((err as Error).message);
      }
    })();
    return () => controller.abort();
  }, [api, bus, jobId, onChanged]);

  async function act(action: () => Promise<DownloadJob>) {
    setError(null);
    try {
      setJob(await action());
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const active = job && !TERMINAL.has(job.state);
  // A download that failed with its partial file kept goes on from there, as a paused one does.
  const resumable = job?.state === 'failed' && job.resumable === true;
  return (
    <li className="catalogue-item" data-testid="catalogue-item">
      <div className="catalogue-head">
        <div>
          <strong>{entry.name}</strong>
          <span className="small"> · {entry.size ? formatBytes(entry.size) : 'size unknown'}</span>
          {entry.license && <span className="small"> · {entry.license}</span>}
          <FitBadge fit={entry.fit} />
        </div>
        <div className="row-actions">
          {entry.installed && !active && <span className="badge badge-accent">installed</span>}
          {!entry.installed && !active && !resumable && (
            <button
              type="button"
              className="btn btn-small"
              onClick={() => void act(() => modelsApi.download(api, entry.id))}
            >
              Download
            </button>
          )}
          {job && ((active && job.state === 'paused') || resumable) && (
            <button
              type="button"
              className="btn btn-small"
              onClick={() => void act(() => modelsApi.resume(api, job.id))}
            >
              <Icon name="play" size={14} /> Resume
            </button>
          )}
          {active && job.state !== 'paused' && (
            <button
              type="button"
              className="btn btn-small"
              onClick={() => void act(() => modelsApi.pause(api, job.id))}
            >
              <Icon name="pause" size={14} /> Pause
            </button>
          )}
          {job && (active || resumable) && (
            <button
              type="button"
              className="btn btn-small"
              title={resumable ? 'Delete the partial file' : undefined}
              onClick={() => void act(() => modelsApi.cancel(api, job.id))}
            >
              {resumable ? 'Discard' : 'Cancel'}
            </button>
          )}
        </div>
      </div>
      <p className="small">{entry.description}</p>
      {active && (
        <div aria-live="polite">
          <span className="small">{job.state === 'paused' ? 'Paused' : (job.phase ?? job.state)}</span>
          <Progress
            label={`Download of ${entry.name}`}
            done={job.bytes_done}
            total={job.bytes_total}
            rate={job.rate}
            eta={job.eta_seconds}
          />
        </div>
      )}
      {job?.state === 'failed' && job.error && (
        <p className="inline-error" role="alert">
          Download failed: {job.error.message}
        </p>
      )}
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

function Catalogue() {
  const { entries, error, reload: load } = useCatalogue();
  if (error)
    return (
      <p className="inline-error" role="alert">
        {error}
      </p>
    );
  if (!entries) return <p role="status">Loading the catalogue…</p>;
  return (
    <ul className="catalogue">
      {entries.map((e) => (
        <CatalogueRow key={e.id} entry={e} onChanged={load} />
      ))}
    </ul>
  );
}

/** Models: what is installed (default, delete), importing a GGUF, and the catalogue. */
export function ModelsView() {
  return (
    <section className="page models" aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      <section className="settings-section" aria-labelledby="installed-title">
        <h2 id="installed-title">Installed</h2>
        <InstalledModels />
      </section>
      <section className="settings-section" aria-labelledby="import-title">
        <h2 id="import-title">Import a GGUF file</h2>
        <ImportZone />
      </section>
      <section className="settings-section" aria-labelledby="catalogue-title">
        <h2 id="catalogue-title">Catalogue</h2>
        <p className="small">Downloads are checked against their published SHA-256 before use.</p>
        <Catalogue />
      </section>
    </section>
  );
}
