import type { Citation } from '../api/types';

/** Where an answer's facts came from (chat with documents): file, page or heading, and score. */
export function Sources({ citations }: { citations: Citation[] }) {
  if (citations.length === 0) return null;
  return (
    <details className="sources" open>
      <summary>Sources ({citations.length})</summary>
      <ol>
        {citations.map((c, i) => (
          <li key={`${c.chunk_id}-${i}`}>
            <span className="source-file">{c.file}</span>
            {c.page !== undefined && c.page !== null && <span className="source-where">page {c.page}</span>}
            {c.heading && <span className="source-where">{c.heading}</span>}
            <span className="source-score" title="Relevance score">
              {Number.isFinite(c.score) ? c.score.toFixed(2) : ''}
            </span>
          </li>
        ))}
      </ol>
    </details>
  );
}

export function citationsOf(meta: unknown): Citation[] {
  const list = (meta as { citations?: unknown } | null)?.citations;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (c): c is Citation => typeof c === 'object' && c !== null && typeof (c as Citation).file === 'string',
  );
}
