import type { ChatNotice } from '../api/types';

/** What the documents search could not do for an answer, said before the answer itself. */
export function Notices({ notices }: { notices: ChatNotice[] }) {
  if (notices.length === 0) return null;
  return (
    <ul className="answer-notices" aria-label="Notes about this answer" data-testid="answer-notices">
      {notices.map((n, i) => (
        <li key={`${n.code}-${n.library_id ?? ''}-${i}`} className="notice">
          {n.message}
        </li>
      ))}
    </ul>
  );
}
