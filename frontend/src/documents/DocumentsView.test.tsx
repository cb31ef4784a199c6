import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { CatalogueEntry, DocDocument, DocLibrary } from '../api/types';
import { FakeBackend, json } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { DocumentsView } from './DocumentsView';

const library: DocLibrary = {
  id: 'lib1',
  name: 'Manuals',
  conversation_id: null,
  embedding_model: { name: 'old-embed.gguf', sha256: 'a' },
  created_at: '',
  updated_at: '',
  documents: 2,
  indexed: 1,
  failed: 1,
  pending: 0,
  chunks: 7,
  state: 'reindex_required',
  state_message: "The library 'Manuals' was indexed with the embedding model old-embed.gguf, but ...",
  active_job: null,
};

function doc(over: Partial<DocDocument>): DocDocument {
  return {
    id: 'd1',
    library_id: 'lib1',
    path: '/data/documents/lib1/guide.md',
    name: 'guide.md',
    kind: 'markdown',
    size: 4096,
    sha256: 'x',
    status: 'indexed',
    reason_code: null,
    reason: null,
    pages: 1,
    chunks: 7,
    updated_at: '',
    ...over,
  };
}

const nomic: CatalogueEntry = {
  id: 'nomic',
  name: 'Nomic Embed Text v1.5 (Q8_0)',
  description: 'Text embedding model.',
  kind: 'embedding',
  filename: 'nomic.gguf',
  size: 146 * 1024 * 1024,
  license: 'apache-2.0',
  installed: false,
  download: null,
};

function backend(model: boolean) {
  const docs = [
    doc({}),
    doc({
      id: 'd2',
      name: 'scan.pdf',
      status: 'failed',
      reason: 'This PDF has no text layer.',
      pages: null,
      chunks: 0,
    }),
  ];
  return new FakeBackend()
    .on('GET', '/api/documents/status', () =>
      json(
        model
          ? { embedding_model: { name: 'all-MiniLM.gguf', sha256: 'b' }, embedding_problem: null }
          : {
              embedding_model: null,
              embedding_problem: { code: 'no_embedding_model', message: 'No embedding model is installed.' },
            },
      ),
    )
    .on('GET', '/api/libraries', () => json([library]))
    .on('GET', '/api/libraries/lib1/documents', () => json(docs))
    .on('DELETE', '/api/libraries/lib1/documents/d2', () => {
      docs.splice(1, 1);
      return json(doc({ id: 'd2' }));
    })
    .on('GET', '/api/models/catalogue', () => json({ models: [{ ...nomic, kind: 'chat', id: 'chat' }, nomic] }));
}

describe('DocumentsView', () => {
  it('lists documents with their reasons, asks for a re-index, and removes one', async () => {
    const fake = backend(true);
    renderWithApp(<DocumentsView id="lib1" />, fake);

    expect(await screen.findByRole('heading', { name: 'Manuals', level: 2 })).toBeInTheDocument();
    expect(screen.getByTestId('embedding-model')).toHaveTextContent('all-MiniLM');
    expect(screen.getByText(/was indexed with the embedding model old-embed\.gguf/)).toBeInTheDocument();
    const rows = await screen.findAllByTestId('document-row');
    expect(rows[0]).toHaveTextContent('guide.md4.0 KiB17Indexed');
    expect(rows[1]).toHaveTextContent('Not indexed');
    expect(rows[1]).toHaveTextContent('This PDF has no text layer.');
    expect(screen.getByRole('button', { name: /Re-index/ })).toBeEnabled();

    await userEvent.click(within(rows[1]).getByRole('button', { name: 'Remove scan.pdf' }));
    expect(await screen.findByText('Removed scan.pdf from Manuals.')).toBeInTheDocument();
    expect(fake.callsTo('DELETE', '/api/libraries/lib1/documents/d2')).toHaveLength(1);
    expect(await screen.findAllByTestId('document-row')).toHaveLength(1);
  });

  it('without an embedding model offers the catalogue one and keeps adding off', async () => {
    renderWithApp(<DocumentsView id="lib1" />, backend(false));
    const offer = await screen.findByTestId('no-embedding');
    expect(within(offer).getByRole('heading', { name: 'No embedding model installed' })).toBeInTheDocument();
    const items = await within(offer).findAllByTestId('catalogue-item');
    expect(items).toHaveLength(1); // the chat model of the catalogue is not offered here
    expect(items[0]).toHaveTextContent('Nomic Embed Text v1.5 (Q8_0) · 146.0 MiB');
    expect(within(items[0]).getByRole('button', { name: 'Download' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /Add files/ })).toBeDisabled();
    expect(screen.getByText('Install an embedding model (above) to add documents.')).toBeInTheDocument();
  });
});
