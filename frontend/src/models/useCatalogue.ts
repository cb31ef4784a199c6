import { useCallback, useEffect, useState } from 'react';
import { models as modelsApi } from '../api/endpoints';
import type { Catalogue, CatalogueEntry } from '../api/types';
import { useApp, useBus } from '../app/context';

export interface CatalogueState {
  entries: CatalogueEntry[] | null;
  /** The first run's pick for this PC (the best fit, else the starter), when the backend has one. */
  recommended: Catalogue['recommended'];
  error: string | null;
  reload: () => void;
}

/** The model catalogue (with each entry's download and fit), read again whenever models change. */
export function useCatalogue(): CatalogueState {
  const { api } = useApp();
  const [catalogue, setCatalogue] = useState<Catalogue | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    modelsApi.catalogue(api).then(
      (c) => {
        setCatalogue(c);
        setError(null);
      },
      (err: Error) => setError(err.message),
    );
  }, [api]);
  useEffect(reload, [reload]);
  useBus('models', reload);
  return { entries: catalogue?.models ?? null, recommended: catalogue?.recommended ?? null, error, reload };
}
