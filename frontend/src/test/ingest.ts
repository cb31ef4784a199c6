// An ingest job as the backend sends it (hearth.docs.jobs.IngestJob.to_dict), for tests.
import type { IngestJob } from '../api/types';

export function ingestJob(over: Partial<IngestJob> = {}): IngestJob {
  return {
    id: 'j1',
    library_id: 'lib1',
    kind: 'ingest',
    status: 'queued',
    files_total: 0,
    files_done: 0,
    pages_done: 0,
    embedded: 0,
    current: null,
    error: null,
    cancel_requested: false,
    ...over,
  };
}
