import { useState } from 'react';
import { engine } from '../api/endpoints';
import { useApp } from '../app/context';
import { modelName, nameOf } from '../models/names';
import type { ModelsState } from '../models/useModels';

interface ModelPickerProps {
  models: ModelsState;
  value: string | null;
  onChange: (model: string) => Promise<void> | void;
  disabled?: boolean;
}

/** A file name without .gguf; `modelName` (models/names.ts) is the name to show for a model. */
export { fileStem as displayName } from '../models/names';

function emptyLabel(models: ModelsState): string {
  if (!models.ready) return 'Loading models…';
  return models.error ? 'Models unavailable' : 'No chat model installed';
}

/** What the picker is doing, or why it cannot: a load under way or failed, or no list. */
function statusText(loading: string | null, error: string | null, models: ModelsState): string {
  if (loading) return 'Loading model…';
  if (error) return `Could not load: ${error}`;
  return models.error && models.chatModels.length === 0 ? `Could not list models: ${models.error}` : '';
}

/** Which model answers in this conversation; picking one loads it at once. */
export function ModelPicker({ models, value, onChange, disabled }: ModelPickerProps) {
  const { api, bus } = useApp();
  const [loading, setLoading] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const options = models.chatModels;
  const current = value ?? models.loaded?.model ?? models.defaultModel ?? options[0]?.id ?? '';
  // A conversation may have been started with a model the picker no longer offers (a base model
  // such as stories260K): show it, without offering it to others.
  const stray = current !== '' && !options.some((m) => m.id === current);

  async function pick(model: string) {
    setError(null);
    setLoading(model);
    try {
      await onChange(model);
      await engine.load(api, model);
      bus.emit('models');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setLoading(null);
    }
  }

  return (
    <div className="model-picker">
      <label htmlFor="model-picker" className="visually-hidden">
        Model
      </label>
      <select
        id="model-picker"
        value={current}
        aria-busy={!models.ready}
        disabled={disabled || options.length === 0 || loading !== null}
        onChange={(e) => void pick(e.target.value)}
      >
        {/* Until a list arrives, "none installed" would be a false claim. */}
        {options.length === 0 && <option value="">{emptyLabel(models)}</option>}
        {stray && (
          <option value={current} disabled>
            {nameOf(current, models.models)} (not a chat model)
          </option>
        )}
        {options.map((m) => (
          <option key={m.id} value={m.id}>
            {modelName(m)}
            {m.info?.quantization && !modelName(m).toLowerCase().includes(m.info.quantization.toLowerCase())
              ? ` · ${m.info.quantization}`
              : ''}
          </option>
        ))}
      </select>
      <span className="picker-status" aria-live="polite">
        {statusText(loading, error, models)}
      </span>
    </div>
  );
}
