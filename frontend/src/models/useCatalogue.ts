import { useCallback, useEffect, useState } from 'react';
import { models as modelsApi } from '../api/endpoints';
import type { CatalogueEntry } from '../api/types';
import { useApp, useBus } from '../app/context';

export interface CatalogueState {
  entries: CatalogueEntry[] | null;
  error: string | null;
  reload: () => void;
}

/** The model catalogue (with each entry's download), read again whenever models change. */
export function useCatalogue(): CatalogueState {
  const { api } = useApp();
  const [entries, setEntries] = useState<CatalogueEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    modelsApi.catalogue(api).then(
      (c) => {
        setEntries(c.models);
        setError(null);
      },
      (err: Error) => setError(err.message),
    );
  }, [api]);
  useEffect(reload, [reload]);
  useBus('models', reload);
  return { entries, error, reload };
}
