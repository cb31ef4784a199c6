import { useEffect } from 'react';
import { libraryFacts } from '../documents/words';
import { libraryWarning, toggled } from './documentWords';
import type { ChatLibraries } from './useChatLibraries';

interface Props {
  libraries: ChatLibraries;
  /** A new chat: the choice is attached with the first message. */
  isNew: boolean;
  onClose: () => void;
}

/** Tick the libraries this conversation's questions search; answers then cite them. */
export function LibrariesPanel({ libraries, isNew, onClose }: Props) {
  const { all, attachedIds, saving, error, reload } = libraries;
  // Opened, it lists the libraries as they are now: one may have been made in another window,
  // from the terminal, or through the API since this chat was opened.
  useEffect(() => {
    void reload();
  }, [reload]);
  return (
    <div id="documents-panel" className="side-panel chat-libraries" role="region" aria-label="Documents">
      {all === null && !error && <p role="status">Loading your libraries…</p>}
      {all !== null && all.length === 0 && (
        <p>
          You have no document libraries yet. <a href="#/documents">Make one in Documents</a> and add your files; then
          tick it here so answers can quote them.
        </p>
      )}
      {all !== null && all.length > 0 && (
        <fieldset className="chat-libraries-list">
          <legend>Libraries this conversation searches</legend>
          {all.map((library) => {
            const warning = libraryWarning(library);
            const box = `attach-${library.id}`;
            return (
              <div key={library.id} className="chat-library">
                <input
                  id={box}
                  type="checkbox"
                  checked={attachedIds.includes(library.id)}
                  aria-describedby={`${box}-facts`}
                  onChange={(e) => void libraries.set(toggled(attachedIds, library.id, e.target.checked))}
                />
                <label htmlFor={box}>{library.name}</label>
                <span id={`${box}-facts`} className="small">
                  {libraryFacts(library)}
                  {warning && <span className="chat-library-warning"> {warning}</span>}
                </span>
              </div>
            );
          })}
        </fieldset>
      )}
      <div className="panel-actions">
        <span className="panel-status" aria-live="polite">
          {saving
            ? 'Saving…'
            : isNew && all !== null && all.length > 0
              ? 'Attached when you send the first message.'
              : ''}
        </span>
        {all !== null && all.length > 0 && (
          <a className="btn btn-ghost" href="#/documents">
            Manage libraries
          </a>
        )}
        <button type="button" className="btn btn-ghost" onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
