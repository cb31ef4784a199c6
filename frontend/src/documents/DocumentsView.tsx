import { useCallback, useEffect, useRef, useState } from 'react';
import type { DragEvent, FormEvent } from 'react';
import { documents } from '../api/endpoints';
import type { DocLibrary, DocumentsStatus } from '../api/types';
import { useApp, useBus } from '../app/context';
import { navigate } from '../app/router';
import { Icon } from '../ui/Icon';
import { droppedFiles } from './dropped';
import { EmbeddingNotice } from './EmbeddingNotice';
import { LibraryPanel } from './LibraryPanel';
import { libraryFacts, pickFolderFiles, skippedLine } from './words';

interface Loaded {
  status: DocumentsStatus;
  libraries: DocLibrary[];
}

function hasFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer.types).includes('Files');
}

/** Documents: libraries of the person's files that chats can search, and adding files to them. */
export function DocumentsView({ id }: { id: string | null }) {
  const { api, ingest } = useApp();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const [note, setNote] = useState<{ libraryId: string; text: string } | null>(null);
  const depth = useRef(0); // dragenter/dragleave fire for every child crossed

  const load = useCallback(async () => {
    try {
      const [status, libraries] = await Promise.all([documents.status(api), documents.libraries(api)]);
      setLoaded({ status, libraries });
      setError(null);
      for (const library of libraries) if (library.active_job) ingest.resume(library.active_job);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [api, ingest]);
  useEffect(() => {
    void load();
  }, [load]);
  useBus('documents', load);
  useBus('models', load); // an embedding model downloaded, imported or deleted

  const libraries = loaded?.libraries ?? [];
  const selected = libraries.find((l) => l.id === id) ?? null;
  const canIndex = !!loaded?.status.embedding_model;

  useEffect(() => {
    // The bare page opens the first library, as a file manager opens its first folder.
    if (loaded && id === null && libraries.length > 0) navigate({ name: 'documents', id: libraries[0].id }, true);
  }, [loaded, id, libraries]);

  function add(files: File[], fromFolder: boolean) {
    if (!selected || !canIndex) return;
    const { take, skipped } = fromFolder ? pickFolderFiles(files) : { take: files, skipped: [] };
    setNote(skipped.length ? { libraryId: selected.id, text: skippedLine(skipped.map((f) => f.name)) } : null);
    if (take.length) void ingest.add(selected.id, take);
  }

  async function onDrop(event: DragEvent) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth.current = 0;
    setOver(false);
    const dropped = await droppedFiles(event.dataTransfer);
    add(dropped.files, dropped.fromFolder);
  }

  return (
    <section
      className="page documents"
      aria-labelledby="documents-title"
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        depth.current += 1;
        setOver(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = selected && canIndex ? 'copy' : 'none';
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={(e) => void onDrop(e)}
    >
      <h1 id="documents-title">Documents</h1>
      <p className="small docs-lead">
        Put your files in a library, then chat with them: Hearth finds the passages that answer a question and cites
        them. Everything stays on this computer.
      </p>
      {error && !loaded && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
      {!loaded && !error && <p role="status">Loading your libraries…</p>}
      {loaded && (
        <>
          <EmbeddingNotice status={loaded.status} />
          <div className="docs-layout">
            <LibraryList libraries={libraries} selectedId={selected?.id ?? null} onCreated={load} />
            {selected ? (
              <LibraryPanel
                key={selected.id}
                library={selected}
                canIndex={canIndex}
                over={over}
                note={note?.libraryId === selected.id ? note.text : null}
                onAdd={add}
                onChanged={load}
              />
            ) : (
              <p className="side-note docs-empty">
                {id !== null
                  ? 'This library no longer exists.'
                  : 'Create a library to add your first documents: notes, manuals, papers, anything with text.'}
              </p>
            )}
          </div>
        </>
      )}
    </section>
  );
}

function LibraryList({
  libraries,
  selectedId,
  onCreated,
}: {
  libraries: DocLibrary[];
  selectedId: string | null;
  onCreated: () => Promise<void>;
}) {
  const { api } = useApp();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    try {
      const library = await documents.create(api, name);
      setName('');
      setError(null);
      await onCreated();
      navigate({ name: 'documents', id: library.id });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <nav className="docs-libraries" aria-labelledby="libraries-title">
      <h2 id="libraries-title">Libraries</h2>
      {libraries.length > 0 && (
        <ul>
          {libraries.map((library) => (
            <li key={library.id}>
              <a
                className="docs-library-link"
                href={`#/documents/${encodeURIComponent(library.id)}`}
                aria-current={library.id === selectedId ? 'page' : undefined}
              >
                <span className="docs-library-name">{library.name}</span>
                <span className="small">{libraryFacts(library)}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
      <form className="docs-create" onSubmit={(e) => void create(e)}>
        <label htmlFor="new-library">New library</label>
        <div className="docs-create-row">
          <input
            id="new-library"
            value={name}
            maxLength={200}
            placeholder="Name"
            aria-invalid={error ? true : undefined}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" className="btn btn-small" disabled={busy || !name.trim()}>
            <Icon name="plus" size={14} /> Create
          </button>
        </div>
        {error && (
          <p className="inline-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </nav>
  );
}
