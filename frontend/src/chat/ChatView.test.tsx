import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { UploadOptions } from '../api/upload';
import type { Conversation, DocLibrary, IngestJob } from '../api/types';
import { FakeBackend, apiError, json, sseResponse, sseStream } from '../test/fakeBackend';
import { ingestJob } from '../test/ingest';
import { message } from '../test/messages';
import { renderWithApp } from '../test/render';
import { ChatView } from './ChatView';

const conversation: Conversation = {
  id: 'c1',
  title: 'Geography',
  system_prompt: null,
  model: null,
  created_at: '2026-01-01T10:00:00Z',
  updated_at: '2026-01-01T10:00:00Z',
};

function library(id: string, name: string, extra: Partial<DocLibrary> = {}): DocLibrary {
  return {
    id,
    name,
    conversation_id: null,
    embedding_model: { name: 'all-MiniLM-L6-v2-Q8_0.gguf', sha256: null },
    created_at: '2026-01-01T10:00:00Z',
    updated_at: '2026-01-01T10:00:00Z',
    documents: 2,
    indexed: 2,
    failed: 0,
    pending: 0,
    chunks: 5,
    state: 'ready',
    state_message: null,
    active_job: null,
    ...extra,
  };
}

const moon = library('l1', 'Moon research');
const empty = library('l2', 'Recipes', { documents: 0, indexed: 0, chunks: 0, state: 'empty' });

function backend() {
  return new FakeBackend()
    .on('GET', '/api/libraries', () => json([]))
    .on('GET', '/api/conversations/c1/libraries', () => json([]))
    .on('GET', '/api/conversations/c1', () => json(conversation))
    .on('GET', '/api/conversations/c1/messages', () => json([]))
    .on('GET', '/api/models', () =>
      json({
        models: [
          {
            id: 'SmolLM2.gguf',
            path: '/m/SmolLM2.gguf',
            size: 1,
            ok: true,
            kind: 'chat',
            info: { quantization: 'Q4_1' },
            error: null,
          },
        ],
      }),
    )
    .on('GET', '/api/status', () => json({ version: '0', engine: { loaded: null, busy: false, waiting: 0 } }));
}

describe('ChatView', () => {
  it('streams an answer with its queue position, stops on Escape, and shows the stats', async () => {
    const stream = sseStream();
    const user = message('user', 'Tell me a story', { conversation_id: 'c1' });
    const fake = backend()
      .on('POST', '/api/conversations/c1/messages', () => stream.response)
      .on('POST', '/api/conversations/c1/stop', () => {
        stream.push('done', {
          message: message('assistant', 'Once upon', { finish_reason: 'stopped', tokens_per_s: 31.2 }),
        });
        stream.end();
        return json({ stopped: true });
      });
    renderWithApp(<ChatView id="c1" />, fake);
    const box = await screen.findByLabelText('Message');
    await userEvent.type(box, 'Tell me a story{Enter}');
    await act(async () => {
      stream.push('start', { run_id: 'r', conversation_id: 'c1', user_message: user });
      stream.push('queued', { position: 2 });
      await new Promise((r) => setTimeout(r, 10));
    });
    expect(screen.getByTestId('pending-status')).toHaveTextContent('Waiting in line: position 2');
    await act(async () => {
      stream.push('delta', { content: 'Once upon' });
      await new Promise((r) => setTimeout(r, 10));
    });
    expect(screen.getByRole('article', { name: 'Hearth is answering' })).toHaveTextContent('Once upon');
    await userEvent.keyboard('{Escape}');
    expect(await screen.findByText('Stopped')).toBeInTheDocument();
    expect(screen.getByTestId('message-stats')).toHaveTextContent('31.2 tok/s');
    expect(fake.callsTo('POST', '/api/conversations/c1/stop')).toHaveLength(1);
    // Screen readers hear the finished answer once, not every token.
    expect(screen.getByText('Hearth answered: Once upon')).toHaveAttribute('role', 'status');
  });

  it('shows a refused send inline, with Retry, and keeps the typed text', async () => {
    let refuse = true;
    const fake = backend().on('POST', '/api/conversations/c1/messages', () =>
      refuse
        ? apiError(404, 'no_model', 'No chat model is installed.')
        : new Response(
            'event: start\ndata: {"run_id":"r","conversation_id":"c1"}\n\nevent: done\ndata: ' +
              JSON.stringify({ message: message('assistant', 'Paris.') }) +
              '\n\n',
          ),
    );
    renderWithApp(<ChatView id="c1" />, fake);
    await userEvent.type(await screen.findByLabelText('Message'), 'What is the capital of France?{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('No chat model is installed.');
    expect(screen.getByLabelText('Message')).toHaveValue('What is the capital of France?');
    refuse = false;
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('Paris.')).toBeInTheDocument();
    const sent = fake
      .callsTo('POST', '/api/conversations/c1/messages')
      .map((c) => (c.body as { content: string }).content);
    expect(sent).toEqual(['What is the capital of France?', 'What is the capital of France?']);
  });

  it('attaches a library from the header and names it there', async () => {
    let attached: DocLibrary[] = [];
    const fake = backend()
      .on('GET', '/api/libraries', () => json([moon, empty]))
      .on('GET', '/api/conversations/c1/libraries', () => json(attached))
      .on('PUT', '/api/conversations/c1/libraries', (call) => {
        const ids = (call.body as { library_ids: string[] }).library_ids;
        attached = [moon, empty].filter((l) => ids.includes(l.id));
        return json(attached);
      });
    renderWithApp(<ChatView id="c1" />, fake);
    const toggle = await screen.findByTestId('documents-toggle');
    expect(toggle).toHaveTextContent(/^Documents$/);
    await userEvent.click(toggle);
    const panel = screen.getByRole('region', { name: 'Documents' });
    expect(within(panel).getByText(/no indexed documents yet/)).toBeInTheDocument();
    await userEvent.click(await within(panel).findByLabelText('Moon research'));
    expect(await screen.findByText('Documents: Moon research')).toBeInTheDocument();
    await userEvent.click(within(panel).getByLabelText('Recipes'));
    expect(await screen.findByText('Documents: 2 libraries')).toBeInTheDocument();
    await userEvent.click(within(panel).getByLabelText('Moon research'));
    expect(await screen.findByText('Documents: Recipes')).toBeInTheDocument();
    expect(
      fake
        .callsTo('PUT', '/api/conversations/c1/libraries')
        .map((c) => (c.body as { library_ids: string[] }).library_ids),
    ).toEqual([['l1'], ['l1', 'l2'], ['l2']]);
  });

  it('a second tick before the first is saved builds on it, and the newest answer wins', async () => {
    const answers: ((libraries: DocLibrary[]) => void)[] = [];
    const fake = backend()
      .on('GET', '/api/libraries', () => json([moon, empty]))
      .on(
        'PUT',
        '/api/conversations/c1/libraries',
        () => new Promise<Response>((r) => answers.push((l) => r(json(l)))),
      );
    renderWithApp(<ChatView id="c1" />, fake);
    await userEvent.click(await screen.findByTestId('documents-toggle'));
    await userEvent.click(await screen.findByLabelText('Moon research'));
    await userEvent.click(screen.getByLabelText('Recipes'));
    expect(screen.getByLabelText('Moon research')).toBeChecked();
    expect(screen.getByText('Saving…')).toBeInTheDocument();
    await act(async () => {
      answers[1]([moon, empty]);
      await new Promise((r) => setTimeout(r, 10));
      answers[0]([moon]); // late: ignored
      await new Promise((r) => setTimeout(r, 10));
    });
    expect(screen.getByTestId('documents-toggle')).toHaveTextContent('Documents: 2 libraries');
    expect(
      fake
        .callsTo('PUT', '/api/conversations/c1/libraries')
        .map((c) => (c.body as { library_ids: string[] }).library_ids),
    ).toEqual([['l1'], ['l1', 'l2']]);
  });

  it('without libraries, points to the Documents page', async () => {
    renderWithApp(<ChatView id="c1" />, backend());
    await userEvent.click(await screen.findByTestId('documents-toggle'));
    const panel = screen.getByRole('region', { name: 'Documents' });
    expect(await within(panel).findByRole('link', { name: 'Make one in Documents' })).toHaveAttribute(
      'href',
      '#/documents',
    );
  });

  it('a new chat attaches the ticked libraries before its first question', async () => {
    const created = { ...conversation, id: 'c2', title: null };
    const fake = backend()
      .on('GET', '/api/libraries', () => json([moon]))
      .on('GET', '/api/conversations/c2/messages', () => json([]))
      .on('POST', '/api/conversations', () => json(created, 201))
      .on('PUT', '/api/conversations/c2/libraries', () => json([moon]))
      .on('POST', '/api/conversations/c2/messages', () =>
        sseResponse([
          ['start', { run_id: 'r', conversation_id: 'c2' }],
          ['done', { message: message('assistant', 'Rock and dust.', { conversation_id: 'c2' }) }],
        ]),
      );
    const { services } = renderWithApp(<ChatView id={null} />, fake);
    await userEvent.click(await screen.findByTestId('documents-toggle'));
    await userEvent.click(await screen.findByLabelText('Moon research'));
    expect(screen.getByText('Attached when you send the first message.')).toBeInTheDocument();
    expect(screen.getByTestId('documents-toggle')).toHaveTextContent('Documents: Moon research');
    await userEvent.type(screen.getByLabelText('Message'), 'What is the moon made of?{Enter}');
    // The page moves to #/chat/c2 (App re-renders ChatView with it); here the store shows it.
    await waitFor(() => expect(services.chat.thread('c2').messages.at(-1)?.content).toBe('Rock and dust.'));
    const order = fake.calls
      .filter((c) => c.method !== 'GET')
      .map((c) => `${c.method} ${c.path}`)
      .filter((c) => c.includes('/api/conversations'));
    expect(order).toEqual([
      'POST /api/conversations',
      'PUT /api/conversations/c2/libraries',
      'POST /api/conversations/c2/messages',
    ]);
    expect(fake.callsTo('PUT', '/api/conversations/c2/libraries')[0].body).toEqual({ library_ids: ['l1'] });
  });

  it('shows a notice from the documents search above the answer', async () => {
    const stream = sseStream();
    const fake = backend().on('POST', '/api/conversations/c1/messages', () => stream.response);
    renderWithApp(<ChatView id="c1" />, fake);
    await userEvent.type(await screen.findByLabelText('Message'), 'When are the tides?{Enter}');
    await act(async () => {
      stream.push('start', { run_id: 'r', conversation_id: 'c1' });
      stream.push('notice', {
        code: 'reindex_required',
        library_id: 'l1',
        message: 'Moon research was indexed with another embedding model: re-index it to search it.',
      });
      stream.push('delta', { content: 'Twice a day.' });
      await new Promise((r) => setTimeout(r, 10));
    });
    const answer = screen.getByRole('article', { name: 'Hearth is answering' });
    expect(within(answer).getByTestId('answer-notices')).toHaveTextContent(
      'Moon research was indexed with another embedding model: re-index it to search it.',
    );
    await act(async () => {
      stream.push('done', { message: message('assistant', 'Twice a day.') });
      stream.end();
      await new Promise((r) => setTimeout(r, 10));
    });
  });

  describe('files attached in the chat', () => {
    const withModel = { embedding_model: { name: 'all-MiniLM-L6-v2-Q8_0.gguf', sha256: 'x' }, embedding_problem: null };

    function uploads() {
      const sent: { path: string; query: UploadOptions['query'] }[] = [];
      const upload = async (_api: unknown, path: string, file: Blob, options: UploadOptions): Promise<IngestJob> => {
        sent.push({ path, query: options.query });
        options.onProgress?.({ loaded: file.size / 2, total: file.size });
        return ingestJob({ id: `j${sent.length}`, library_id: 'own', files_total: 1 });
      };
      return { sent, upload };
    }

    const drag = (files: File[]) => ({ dataTransfer: { types: ['Files'], files, items: [], dropEffect: 'none' } });

    it("a drop shows the overlay, then chips with progress, the result, and a bad file's reason", async () => {
      const streams = [sseStream(), sseStream()];
      const fake = backend()
        .on('GET', '/api/documents/status', () => json(withModel))
        .on('GET', '/api/conversations/c1/attachments', () => json({ library: null, documents: [], jobs: [] }))
        .on('GET', /^\/api\/libraries\/own\/jobs\/j(\d)\/events$/, (_c, m) => streams[Number(m[1]) - 1].response);
      const { sent, upload } = uploads();
      renderWithApp(<ChatView id="c1" />, fake, upload);
      const chat = await screen.findByRole('region', { name: 'Chat' });
      const files = [new File(['%PDF-1.4 ...'], 'paper.pdf'), new File(['not a pdf'], 'scan.pdf')];
      fireEvent.dragEnter(chat, drag(files));
      expect(screen.getByTestId('chat-drop')).toHaveTextContent('Drop files to add them to this chat');
      await act(async () => {
        fireEvent.drop(chat, drag(files));
        await new Promise((r) => setTimeout(r, 10));
      });
      expect(screen.queryByTestId('chat-drop')).toBeNull();
      expect(sent).toEqual([
        { path: '/api/documents/attach', query: { conversation_id: 'c1', filename: 'paper.pdf' } },
        { path: '/api/documents/attach', query: { conversation_id: 'c1', filename: 'scan.pdf' } },
      ]);
      const list = screen.getByRole('list', { name: 'Files in this chat' });
      await act(async () => {
        streams[0].push('started', { id: 'j1' });
        streams[0].push('progress', {
          files_done: 0,
          files_total: 1,
          current: '/d/paper.pdf',
          file_chunks_done: 1,
          file_chunks_total: 4,
        });
        await new Promise((r) => setTimeout(r, 10));
      });
      const paper = within(list).getByText('paper.pdf').closest('li') as HTMLElement;
      expect(paper).toHaveTextContent('Embedding paper.pdf: 1 of 4 chunks…');
      expect(within(paper).getByRole('progressbar', { name: 'Progress of paper.pdf' })).toBeInTheDocument();
      const good = {
        path: '/d/paper.pdf',
        file: 'paper.pdf',
        status: 'indexed' as const,
        chunks: 4,
        pages: 2,
        reason_code: null,
        reason: null,
        document_id: 'd1',
      };
      const bad = {
        path: '/d/scan.pdf',
        file: 'scan.pdf',
        status: 'failed' as const,
        chunks: 0,
        pages: 0,
        reason_code: 'unreadable',
        reason: 'This is not a PDF file (no %PDF header).',
        document_id: 'd2',
      };
      await act(async () => {
        streams[0].push('done', ingestJob({ id: 'j1', library_id: 'own', status: 'done', results: [good] }));
        streams[0].end();
        streams[1].push('done', ingestJob({ id: 'j2', library_id: 'own', status: 'done', results: [bad] }));
        streams[1].end();
        await new Promise((r) => setTimeout(r, 10));
      });
      expect(paper).toHaveTextContent('Indexed: 4 chunks, 2 pages.');
      const scan = within(list).getByText('scan.pdf').closest('li') as HTMLElement;
      expect(scan).toHaveTextContent('Not indexed: This is not a PDF file (no %PDF header).');
      expect(scan).toHaveClass('attachment-bad');
    });

    it('a new chat is made before its first file is uploaded', async () => {
      const created = { ...conversation, id: 'c2', title: null };
      const fake = backend()
        .on('GET', '/api/documents/status', () => json(withModel))
        .on('POST', '/api/conversations', () => json(created, 201))
        .on('GET', '/api/libraries/own/jobs/j1/events', () => sseStream().response);
      const { sent, upload } = uploads();
      const { services } = renderWithApp(<ChatView id={null} />, fake, upload);
      await userEvent.click(await screen.findByRole('button', { name: 'Attach files' }));
      await userEvent.upload(screen.getByTestId('attach-input'), new File(['# Notes'], 'notes.md'));
      await waitFor(() => expect(sent).toHaveLength(1));
      expect(fake.callsTo('POST', '/api/conversations')).toHaveLength(1);
      expect(sent[0].query).toEqual({ conversation_id: 'c2', filename: 'notes.md' });
      expect(services.ingest.get()[0]).toMatchObject({ conversationId: 'c2', name: 'notes.md' });
    });

    it('without an embedding model, says so and uploads nothing', async () => {
      const fake = backend().on('GET', '/api/documents/status', () =>
        json({
          embedding_model: null,
          embedding_problem: { code: 'no_embedding_model', message: 'No embedding model is installed.' },
        }),
      );
      const { sent, upload } = uploads();
      renderWithApp(<ChatView id="c1" />, fake, upload);
      const chat = await screen.findByRole('region', { name: 'Chat' });
      await waitFor(() => expect(fake.callsTo('GET', '/api/documents/status')).toHaveLength(1));
      await act(async () => {
        fireEvent.drop(chat, drag([new File(['x'], 'notes.md')]));
        await new Promise((r) => setTimeout(r, 10));
      });
      const note = screen.getByRole('region', { name: 'Attaching files' });
      expect(within(note).getByRole('heading', { name: 'No embedding model installed' })).toBeInTheDocument();
      expect(sent).toEqual([]);
      expect(fake.callsTo('POST', '/api/conversations')).toHaveLength(0);
    });
  });
});
