import { useCallback, useEffect, useState } from 'react';
import { batches as batchesApi } from '../api/endpoints';
import type { Batch } from '../api/types';
import { useApp } from '../app/context';
import { relativeTime } from './localApi';
import {
  BATCH_STATUS_TEXT,
  batchDone,
  batchProblems,
  batchProgressText,
  batchRunning,
  canCancel,
  resultsFileName,
} from './batches';

const SHOWN = 20;
export const BATCH_POLL_MS = 2000;

/** Hand a blob to the browser's own download (Electron asks where to save it). */
function save(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** Batches other programs sent through OpenAI's Batch API: status, progress, cancel, results.
 *  Read again every `pollMs` while one of them is still running. */
export function Batches({ pollMs = BATCH_POLL_MS }: { pollMs?: number }) {
  const { api } = useApp();
  const [batches, setBatches] = useState<Batch[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setBatches((await batchesApi.list(api, SHOWN)).data);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const running = batches?.some(batchRunning) ?? false;
  useEffect(() => {
    if (!running) return undefined;
    const timer = setTimeout(() => void load(), pollMs);
    return () => clearTimeout(timer);
  }, [running, batches, load, pollMs]);

  const cancel = async (batch: Batch) => {
    try {
      const changed = await batchesApi.cancel(api, batch.id);
      setBatches((all) => all?.map((b) => (b.id === changed.id ? changed : b)) ?? null);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const download = async (batch: Batch, fileId: string, kind: 'output' | 'errors') => {
    try {
      save(await batchesApi.content(api, fileId), resultsFileName(batch, kind));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const now = Date.now();
  return (
    <div className="api-batches">
      <h3 id="api-batches-title">Batches</h3>
      {error && (
        <p className="inline-error" role="alert">
          Could not read the batches: {error}
        </p>
      )}
      {batches !== null && batches.length === 0 && (
        <p className="small">
          No batches yet. A program sends one with OpenAI&apos;s Batch API (a JSONL file of requests); Hearth answers
          them in the background, across restarts.
        </p>
      )}
      {batches !== null && batches.length > 0 && (
        <ol className="api-batch-list" aria-labelledby="api-batches-title" data-testid="api-batches">
          {batches.map((batch) => (
            <li key={batch.id} aria-label={`Batch ${batch.id}`}>
              <div className="api-batch-head">
                <span className={`badge ${badge(batch)}`}>{BATCH_STATUS_TEXT[batch.status]}</span>
                <code className="mono">{batch.endpoint}</code>
                <span className="api-batch-when" title={new Date(batch.created_at * 1000).toLocaleString()}>
                  {relativeTime(batch.created_at, now)}
                </span>
              </div>
              {batch.status !== 'failed' && (
                <div className="progress-block">
                  <progress
                    className="progress"
                    aria-label={`Progress of batch ${batch.id}`}
                    max={Math.max(batch.request_counts.total, 1)}
                    value={batchDone(batch)}
                  />
                  <div className="progress-facts">
                    <span>{batchProgressText(batch)}</span>
                  </div>
                </div>
              )}
              {batch.status === 'failed' && (
                <ul className="api-batch-problems small">
                  {batchProblems(batch).map((problem) => (
                    <li key={problem}>{problem}</li>
                  ))}
                </ul>
              )}
              <div className="row-actions">
                {canCancel(batch) && (
                  <button
                    type="button"
                    className="btn btn-small"
                    aria-label={`Cancel batch ${batch.id}`}
                    onClick={() => void cancel(batch)}
                  >
                    Cancel
                  </button>
                )}
                {batch.output_file_id && !batchRunning(batch) && (
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => void download(batch, batch.output_file_id as string, 'output')}
                  >
                    Download results
                  </button>
                )}
                {batch.error_file_id && !batchRunning(batch) && (
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => void download(batch, batch.error_file_id as string, 'errors')}
                  >
                    Download errors
                  </button>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function badge(batch: Batch): string {
  if (batch.status === 'completed') return 'badge-good';
  if (batch.status === 'failed' || batch.status === 'expired') return 'badge-bad';
  return batchRunning(batch) ? 'badge-accent' : '';
}
