import { useCallback, useEffect, useState } from 'react';
import { engine, models } from '../api/endpoints';
import type { EngineStatus, ModelEntry, ModelList } from '../api/types';
import { useApp, useBus } from '../app/context';

export interface ModelsState {
  models: ModelEntry[];
  /** What the chat's picker offers: models with a chat template, no embedding models. */
  chatModels: ModelEntry[];
  loaded: EngineStatus['loaded'];
  /** The model a new chat loads first (shown from the start, not only once chosen). */
  defaultModel: string | null;
  defaultSource: ModelList['default_source'];
  error: string | null;
  ready: boolean;
  reload: () => Promise<void>;
}

/** The backend decides (library/names.py: a chat template, not an embedding model); an entry
 *  without the flag (a remote engine's) is judged by its kind alone. */
export function isChatModel(model: ModelEntry): boolean {
  if (model.chat !== undefined) return model.chat;
  return model.ok && model.kind !== 'embedding' && !model.info?.is_embedding;
}

type Loaded = Omit<ModelsState, 'reload' | 'chatModels'>;

/** Installed models, the default and the loaded one; refreshed whenever a screen says models changed. */
export function useModels(): ModelsState {
  const { api } = useApp();
  const [state, setState] = useState<Loaded>({
    models: [],
    loaded: null,
    defaultModel: null,
    defaultSource: 'none',
    error: null,
    ready: false,
  });

  const reload = useCallback(async () => {
    try {
      const [list, status] = await Promise.all([models.list(api), engine.status(api)]);
      setState({
        models: list.models,
        loaded: status.engine.loaded,
        defaultModel: list.default_model ?? null,
        defaultSource: list.default_source ?? 'none',
        error: null,
        ready: true,
      });
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
