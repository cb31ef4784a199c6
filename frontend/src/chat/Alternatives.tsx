// "‹ 1/2 ›": switch between the alternatives of a message (a regenerated answer, an edited
// question). The server stores the choice; the list it returns afterwards is what is shown.

import type { Message } from '../api/types';
import './alternatives.css';

export interface AlternativesProps {
  message: Message;
  busy: boolean;
  onSelect: (messageId: number) => void;
}

/** The ids on either side of the shown alternative; undefined at an end. Pure. */
export function neighbours(message: Message): { previous?: number; next?: number; at: number; of: number } {
  const ids = message.sibling_ids ?? [];
  const at = message.alternative ?? 1;
  return { previous: ids[at - 2], next: ids[at], at, of: ids.length };
}

export function Alternatives({ message, busy, onSelect }: AlternativesProps) {
  const { previous, next, at, of } = neighbours(message);
  if (of < 2) return null;
  const what = message.role === 'user' ? 'version' : 'answer';
  return (
    <div className="alternatives" role="group" aria-label={`${what} ${at} of ${of}`} data-testid="alternatives">
      <button
        type="button"
        className="icon-btn alternatives-step"
        aria-label={`Previous ${what}`}
        title={`Previous ${what}`}
        disabled={busy || previous === undefined}
        onClick={() => previous !== undefined && onSelect(previous)}
      >
        ‹
      </button>
      <span className="alternatives-count" data-testid="alternatives-count">
        {at}/{of}
      </span>
      <button
        type="button"
        className="icon-btn alternatives-step"
        aria-label={`Next ${what}`}
        title={`Next ${what}`}
        disabled={busy || next === undefined}
        onClick={() => next !== undefined && onSelect(next)}
      >
        ›
      </button>
    </div>
  );
}
