import { useState } from 'react';
import type { Citation } from '../api/types';
import { ExcerptDialog } from './ExcerptDialog';

type Openable = Citation & { library_id: string };

// Citations saved before sources named their library cannot be looked up: shown, not clickable.
const openable = (c: Citation): c is Openable => typeof c.library_id === 'string' && c.library_id !== '';

function SourceFacts({ c }: { c: Citation }) {
  return (
    <>
      <span className="source-file">{c.file}</span>
      {c.page !== undefined && c.page !== null && <span className="source-where">page {c.page}</span>}
      {c.heading && <span className="source-where">{c.heading}</span>}
      <span className="source-score" title="Relevance score">
        {Number.isFinite(c.score) ? c.score.toFixed(2) : ''}
      </span>
    </>
  );
}

/** Where an answer's facts came from (chat with documents); a source opens its excerpt. */
export function Sources({ citations }: { citations: Citation[] }) {
  const [open, setOpen] = useState<Openable | null>(null);
  if (citations.length === 0) return null;
  return (
    <details className="sources" open>
      <summary>Sources ({citations.length})</summary>
      <ol>
        {citations.map((c, i) => (
          <li key={`${c.chunk_id}-${i}`}>
            {openable(c) ? (
              <button
                type="button"
                className="source-open"
                title="Show the excerpt"
                aria-haspopup="dialog"
                onClick={() => setOpen(c)}
              >
                <SourceFacts c={c} />
              </button>
            ) : (
              <SourceFacts c={c} />
            )}
          </li>
        ))}
      </ol>
      {open && <ExcerptDialog source={open} onClose={() => setOpen(null)} />}
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
