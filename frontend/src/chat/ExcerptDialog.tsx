import { documents } from '../api/endpoints';
import type { Citation } from '../api/types';
import { useApp } from '../app/context';
import { useAsync } from '../app/useAsync';
import { Dialog } from '../ui/Dialog';
import { excerptProblem, excerptWhere } from './documentWords';

/** The passage a source points at, read from the library now (it may have gone since). */
export function ExcerptDialog({ source, onClose }: { source: Citation & { library_id: string }; onClose: () => void }) {
  const { api } = useApp();
  const chunk = useAsync(
    () => documents.chunk(api, source.library_id, String(source.chunk_id)),
    [api, source.library_id, source.chunk_id],
  );
  // The answer's citation names the place at once; the fetched chunk is the truth once here.
  const where = excerptWhere(chunk.data ?? source);
  return (
    <Dialog
      title={chunk.data?.file ?? source.file}
      onClose={onClose}
      wide
      footer={
        <button type="button" className="btn" data-autofocus onClick={onClose}>
          Close
        </button>
      }
    >
      {where && <p className="excerpt-where">{where}</p>}
      {chunk.loading && !chunk.data && <p role="status">Loading the excerpt…</p>}
      {chunk.error && (
        <p className="notice" role="alert">
          {excerptProblem(chunk.error)}
        </p>
      )}
      {chunk.data && (
        <blockquote className="excerpt-text" data-testid="excerpt-text">
          {chunk.data.text}
        </blockquote>
      )}
    </Dialog>
  );
}
