import type { DocumentsStatus } from '../api/types';
import { displayName } from '../chat/ModelPicker';
import { CatalogueRow } from '../models/ModelsView';
import { useCatalogue } from '../models/useCatalogue';

/** Which embedding model reads the documents, or, without one, the catalogue's to download. */
export function EmbeddingNotice({ status }: { status: DocumentsStatus }) {
  if (status.embedding_model) {
    return (
      <p className="small" data-testid="embedding-model">
        Embedding model: <strong>{displayName(status.embedding_model.name)}</strong>. It reads and searches your
        documents on this computer; the chat model then answers from what it finds.
      </p>
    );
  }
  return (
    <section className="offer offer-yes docs-offer" aria-labelledby="no-embedding-title" data-testid="no-embedding">
      <div>
        <h2 id="no-embedding-title">No embedding model installed</h2>
        <p>
          Hearth needs a small embedding model to read and search your documents. It runs on this computer, beside the
          chat model.
        </p>
        {status.embedding_problem && <p className="small">{status.embedding_problem.message}</p>}
        <EmbeddingCatalogue />
        <p className="small">
          Already have an embedding GGUF (for example all-MiniLM)? Import it on the <a href="#/models">Models</a> page.
        </p>
      </div>
    </section>
  );
}

function EmbeddingCatalogue() {
  const { entries: all, error, reload: load } = useCatalogue();
  if (error)
    return (
      <p className="inline-error" role="alert">
        The catalogue could not be read: {error}
      </p>
    );
  if (!all) return <p role="status">Loading the catalogue…</p>;
  const entries = all.filter((m) => m.kind === 'embedding');
  if (entries.length === 0) return null;
  return (
    <ul className="catalogue" aria-label="Embedding models to download">
      {entries.map((e) => (
        <CatalogueRow key={e.id} entry={e} onChanged={load} />
      ))}
    </ul>
  );
}
