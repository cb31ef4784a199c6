import { useCallback, useEffect, useState } from 'react';
import { engine, models } from '../api/endpoints';
import type { EngineStatus, ModelEntry } from '../api/types';
import { useApp, useBus } from '../app/context';

export interface ModelsState {
  models: ModelEntry[];
  chatModels: ModelEntry[];
  loaded: EngineStatus['loaded'];
  error: string | null;
  ready: boolean;
  reload: () => Promise<void>;
}

export function isChatModel(model: ModelEntry): boolean {
  return model.ok && model.kind !== 'embedding' && !model.info?.is_embedding;
}

/** Installed models and the loaded one; refreshed whenever a screen says models changed. */
export function useModels(): ModelsState {
  const { api } = useApp();
  const [state, setState] = useState<Omit<ModelsState, 'reload' | 'chatModels'>>({
    models: [],
    loaded: null,
    error: null,
    ready: false,
  });

  const reload = useCallback(async () => {
    try {
      const [list, status] = await Promise.all([models.list(api), engine.status(api)]);
      setState({ models: list.models, loaded: status.engine.loaded, error: null, ready: true });
    } catch (error) {
      setState((s) => ({ ...s, error: (error as Error).message, ready: true }));
    }
  }, [api]);

  useEffect(() => {
    void reload();
  }, [reload]);
  useBus('models', reload);
  useBus('answer', reload);

  return { ...state, chatModels: state.models.filter(isChatModel), reload };
}
