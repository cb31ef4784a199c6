import { useCallback, useRef, useState, useSyncExternalStore } from 'react';
import type { FormEvent } from 'react';
import { documents } from '../api/endpoints';
import type { DocDocument, DocLibrary } from '../api/types';
import { useApp, useBus } from '../app/context';
import { navigate } from '../app/router';
import { useAsync } from '../app/useAsync';
import { Dialog } from '../ui/Dialog';
import { formatBytes } from '../ui/format';
import { Icon } from '../ui/Icon';
import { useToasts } from '../ui/Toasts';
import { TaskList } from './TaskList';
import { SUPPORTED_EXTENSIONS, SUPPORTED_WORDS, documentStatus, libraryFacts, plural } from './words';

interface LibraryPanelProps {
  library: DocLibrary;
  /** False without an embedding model: the backend would refuse every file. */
  canIndex: boolean;
  /** A file drag is over the page. */
  over: boolean;
  note: string | null;
  onAdd: (files: File[], fromFolder: boolean) => void;
  onChanged: () => Promise<void>;
}

/** One library: its name, adding files (picker, folder, drop), activity, and its documents. */
export function LibraryPanel({ library, canIndex, over, note, onAdd, onChanged }: LibraryPanelProps) {
  const { ingest } = useApp();
  const all = useSyncExternalStore(ingest.subscribe, ingest.get);
  const tasks = all.filter((t) => t.libraryId === library.id);
  return (
    <section className="docs-library" aria-labelledby="library-title">
      <LibraryHeader library={library} canIndex={canIndex} onChanged={onChanged} />
      {library.state === 'reindex_required' && library.state_message && (
        <p className="notice" role="status">
          {library.state_message}
        </p>
      )}
      <AddZone canIndex={canIndex} over={over} onAdd={onAdd} />
      {note && (
        <p className="notice" role="status">
          {note}
        </p>
      )}
      <TaskList
        tasks={tasks}
        onCancel={(key) => void ingest.cancel(key)}
        onClear={() => ingest.clearFinished(library.id)}
      />
      <DocumentTable library={library} />
    </section>
  );
}

function LibraryHeader({ library, canIndex, onChanged }: Omit<LibraryPanelProps, 'over' | 'note' | 'onAdd'>) {
  const { api, ingest } = useApp();
  const toasts = useToasts();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(library.name);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const busy = library.active_job !== null;

  async function rename(event: FormEvent) {
    event.preventDefault();
    if (name.trim() === library.name) {
      setEditing(false);
      return;
    }
    try {
      await documents.rename(api, library.id, name);
      setEditing(false);
      setError(null);
      await onChanged();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function remove() {
    setConfirm(false);
    try {
      await documents.remove(api, library.id);
      ingest.forget(library.id);
      toasts.show(`Deleted the library ${library.name}.`);
      // The list first: the bare page opens the first library it still holds.
      await onChanged();
      navigate({ name: 'documents', id: null }, true);
    } catch (err) {
      toasts.show(`Could not delete ${library.name}: ${(err as Error).message}`, { tone: 'error' });
    }
  }

  return (
    <header className="docs-library-head">
      {editing ? (
        <form className="docs-rename" onSubmit={(e) => void rename(e)}>
          <label className="visually-hidden" htmlFor="library-name">
            Library name
          </label>
          <input
            id="library-name"
            value={name}
            maxLength={200}
            autoFocus
            aria-invalid={error ? true : undefined}
            onChange={(e) => setName(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setEditing(false);
                setName(library.name);
                setError(null);
              }
            }}
          />
          <button type="submit" className="btn btn-primary btn-small" disabled={!name.trim()}>
            Save
          </button>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              setEditing(false);
              setName(library.name);
              setError(null);
            }}
          >
            Cancel
          </button>
        </form>
      ) : (
        <div>
          <h2 id="library-title">{library.name}</h2>
          <p className="small" data-testid="library-facts">
            {libraryFacts(library)}
          </p>
        </div>
      )}
      {!editing && (
        <div className="row-actions">
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              setName(library.name);
              setEditing(true);
            }}
          >
            <Icon name="edit" size={14} /> Rename
          </button>
          <button
            type="button"
            className={`btn btn-small${library.state === 'reindex_required' ? ' btn-primary' : ''}`}
            disabled={!canIndex || library.documents === 0 || busy}
            title="Rebuild every document's index with the current embedding model, after changing it"
            onClick={() => void ingest.reindex(library.id).then(onChanged)}
          >
            <Icon name="refresh" size={14} /> Re-index
          </button>
          <button type="button" className="btn btn-small" onClick={() => setConfirm(true)}>
            <Icon name="trash" size={14} /> Delete
          </button>
        </div>
      )}
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
      {confirm && (
        <Dialog
          title={`Delete the library ${library.name}?`}
          onClose={() => setConfirm(false)}
          footer={
            <>
              <button type="button" className="btn" onClick={() => setConfirm(false)}>
                Keep it
              </button>
              <button type="button" className="btn btn-danger" onClick={() => void remove()}>
                Delete library
              </button>
            </>
          }
        >
          <p>
            Its index and the copies of {plural(library.documents, 'document')} that Hearth keeps are deleted. Your own
            files elsewhere on this computer are not touched.
          </p>
        </Dialog>
      )}
    </header>
  );
}

function AddZone({ canIndex, over, onAdd }: Pick<LibraryPanelProps, 'canIndex' | 'over' | 'onAdd'>) {
  const files = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  const setFolderAttrs = useCallback((input: HTMLInputElement | null) => {
    folder.current = input;
    // Not in React's typings: the folder picker of Chromium (Electron) and the other browsers.
    input?.setAttribute('webkitdirectory', '');
  }, []);
  return (
    <div className={`drop-zone docs-drop${over && canIndex ? ' over' : ''}`} data-testid="docs-drop">
      <Icon name="upload" size={22} />
      {canIndex ? (
        <p>Drop files or a folder anywhere on this page, or</p>
      ) : (
        <p>Install an embedding model (above) to add documents.</p>
      )}
      <div className="button-row">
        <button type="button" className="btn" disabled={!canIndex} onClick={() => files.current?.click()}>
          <Icon name="plus" size={16} /> Add files…
        </button>
        <button type="button" className="btn" disabled={!canIndex} onClick={() => folder.current?.click()}>
          <Icon name="folder" size={16} /> Add a folder…
        </button>
      </div>
      <p className="small">{SUPPORTED_WORDS}. Files are copied into Hearth; nothing leaves this computer.</p>
      <input
        ref={files}
        type="file"
        multiple
        accept={SUPPORTED_EXTENSIONS.join(',')}
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Documents to add"
        disabled={!canIndex}
        onChange={(e) => {
          const picked = Array.from(e.target.files ?? []);
          e.target.value = '';
          onAdd(picked, false);
        }}
      />
      <input
        ref={setFolderAttrs}
        type="file"
        multiple
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Folder to add"
        disabled={!canIndex}
        onChange={(e) => {
          const picked = Array.from(e.target.files ?? []);
          e.target.value = '';
          onAdd(picked, true);
        }}
      />
    </div>
  );
}

function DocumentTable({ library }: { library: DocLibrary }) {
  const { api, bus } = useApp();
  const toasts = useToasts();
  const { data, error, reload } = useAsync(() => documents.list(api, library.id), [api, library.id]);
  useBus('documents', reload);

  async function remove(doc: DocDocument) {
    try {
      await documents.removeDocument(api, library.id, doc.id);
      toasts.show(`Removed ${doc.name} from ${library.name}.`);
      bus.emit('documents');
    } catch (err) {
      toasts.show(`Could not remove ${doc.name}: ${(err as Error).message}`, { tone: 'error' });
    }
  }

  if (error && !data) {
    return (
      <p className="inline-error" role="alert">
        The documents could not be listed: {error.message}
      </p>
    );
  }
  if (!data) return <p role="status">Loading the documents…</p>;
  if (data.length === 0) return <p className="side-note">No documents in this library yet.</p>;
  return (
    <div className="table-wrap">
      <table className="models-table docs-table">
        <caption className="visually-hidden">Documents in {library.name}</caption>
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Size</th>
            <th scope="col">Pages</th>
            <th scope="col">Chunks</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {data.map((doc) => (
            <tr key={doc.id} className={doc.status === 'failed' ? 'broken' : ''} data-testid="document-row">
              <th scope="row" className="docs-file">
                {doc.name}
              </th>
              <td>{formatBytes(doc.size)}</td>
              <td>{doc.pages ?? '—'}</td>
              <td>{doc.status === 'indexed' ? doc.chunks.toLocaleString() : '—'}</td>
              <td className="docs-status">
                <span className={doc.status === 'indexed' ? 'ok-text' : doc.status === 'failed' ? 'error-text' : ''}>
                  {documentStatus(doc)}
                </span>
                {doc.reason && <span className="small docs-reason">{doc.reason}</span>}
              </td>
              <td>
                <div className="row-actions">
                  <button
                    type="button"
                    className="btn btn-small"
                    aria-label={`Remove ${doc.name}`}
                    onClick={() => void remove(doc)}
                  >
                    <Icon name="trash" size={14} /> Remove
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
