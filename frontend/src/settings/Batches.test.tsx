import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, vi } from 'vitest';
import type { Batch } from '../api/types';
import { FakeBackend, json } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { Batches } from './Batches';
import { batchProblems, batchProgressText, batchRunning, canCancel } from './batches';

function batch(changes: Partial<Batch> = {}): Batch {
  const now = Math.floor(Date.now() / 1000);
  return {
    id: 'batch_abc',
    object: 'batch',
    endpoint: '/v1/chat/completions',
    input_file_id: 'file-in',
    completion_window: '24h',
    status: 'in_progress',
    errors: null,
    output_file_id: null,
    error_file_id: null,
    created_at: now - 120,
    in_progress_at: now - 119,
    expires_at: now + 86400,
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: 20, completed: 5, failed: 0 },
    metadata: null,
    ...changes,
  };
}

/** A fake of hearth/api/batches.py: the list, cancel and a file's bytes. */
function fakeBatches(...initial: Batch[]) {
  const state = { batches: initial };
  const backend = new FakeBackend()
    .on('GET', /^\/v1\/batches/, () =>
      json({ object: 'list', data: state.batches, first_id: null, last_id: null, has_more: false }),
    )
    .on('POST', /^\/v1\/batches\/([^/]+)\/cancel$/, (_call, m) => {
      state.batches = state.batches.map((b) => (b.id === m[1] ? { ...b, status: 'cancelling' } : b));
      return json(state.batches.find((b) => b.id === m[1]));
    })
    .on('GET', /^\/v1\/files\/([^/]+)\/content$/, () => new Response('{"custom_id": "a"}\n', { status: 200 }));
  return { backend, state };
}

describe('batches: the words and numbers', () => {
  it('says progress, running and what can be cancelled', () => {
    expect(batchProgressText(batch())).toBe('5 of 20 requests');
    expect(batchProgressText(batch({ request_counts: { total: 1, completed: 0, failed: 1 } }))).toBe(
      '1 of 1 request (1 failed)',
    );
    expect(batchRunning(batch({ status: 'cancelling' }))).toBe(true);
    expect(batchRunning(batch({ status: 'expired' }))).toBe(false);
    expect(canCancel(batch({ status: 'validating' }))).toBe(true);
    expect(canCancel(batch({ status: 'finalizing' }))).toBe(false);
  });

  it("lists a failed file's mistakes by line", () => {
    const errors = [1, 2, 3, 4].map((line) => ({ code: 'invalid_json_line', message: 'Not JSON.', param: null, line }));
    expect(batchProblems(batch({ errors: { object: 'list', data: errors } }))).toEqual([
      'Line 1: Not JSON.',
      'Line 2: Not JSON.',
      'Line 3: Not JSON.',
      'and 1 more',
    ]);
  });
});

describe('Batches', () => {
  const saved: string[] = [];
  beforeEach(() => {
    saved.length = 0;
    // jsdom has no object URLs: the browser's save is seen here as the name it was given.
    URL.createObjectURL = vi.fn(() => 'blob:results');
    URL.revokeObjectURL = vi.fn();
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download);
    });
  });
  afterEach(() => vi.restoreAllMocks());

  it('shows progress while running, polls, and offers the results once done', async () => {
    const user = userEvent.setup();
    const { backend, state } = fakeBatches(batch());
    renderWithApp(<Batches pollMs={20} />, backend);
    const item = await screen.findByRole('listitem', { name: 'Batch batch_abc' });
    expect(item).toHaveTextContent('Running');
    expect(item).toHaveTextContent('2 min ago');
    expect(item).toHaveTextContent('5 of 20 requests');
    const bar = within(item).getByRole('progressbar', { name: 'Progress of batch batch_abc' });
    expect(bar).toHaveAttribute('value', '5');
    expect(bar).toHaveAttribute('max', '20');
    expect(within(item).queryByRole('button', { name: 'Download results' })).toBeNull();

    state.batches = [
      batch({
        status: 'completed',
        output_file_id: 'file-out',
        request_counts: { total: 20, completed: 20, failed: 0 },
      }),
    ];
    await waitFor(() => expect(item).toHaveTextContent('Done'));
    expect(item).toHaveTextContent('20 of 20 requests');
    expect(within(item).queryByRole('button', { name: /Cancel/ })).toBeNull();
    const polls = backend.callsTo('GET', '/v1/batches').length;
    await new Promise((r) => setTimeout(r, 80));
    expect(backend.callsTo('GET', '/v1/batches')).toHaveLength(polls); // nothing runs: no polling

    await user.click(within(item).getByRole('button', { name: 'Download results' }));
    await waitFor(() => expect(saved).toEqual(['batch_abc_output.jsonl']));
    const fetched = backend.callsTo('GET', '/v1/files/file-out/content')[0];
    expect(fetched.headers.Authorization).toBe('Bearer tok-123'); // the per-launch token
  });

  it('cancels a running batch', async () => {
    const user = userEvent.setup();
    const { backend } = fakeBatches(batch());
    renderWithApp(<Batches pollMs={10_000} />, backend);
    const item = await screen.findByRole('listitem', { name: 'Batch batch_abc' });
    await user.click(within(item).getByRole('button', { name: 'Cancel batch batch_abc' }));
    await waitFor(() => expect(item).toHaveTextContent('Stopping'));
    expect(backend.callsTo('POST', '/v1/batches/batch_abc/cancel')).toHaveLength(1);
    expect(within(item).queryByRole('button', { name: /Cancel/ })).toBeNull();
  });

  it("says a failed file's mistakes, and when there are no batches", async () => {
    const errors = [{ code: 'duplicate_custom_id', message: 'The custom_id is taken.', param: 'custom_id', line: 3 }];
    const { backend } = fakeBatches(batch({ status: 'failed', errors: { object: 'list', data: errors } }));
    renderWithApp(<Batches />, backend);
    const item = await screen.findByRole('listitem', { name: 'Batch batch_abc' });
    expect(item).toHaveTextContent('Failed: the file has mistakes');
    expect(item).toHaveTextContent('Line 3: The custom_id is taken.');
    expect(within(item).queryByRole('progressbar')).toBeNull();

    const empty = fakeBatches();
    renderWithApp(<Batches />, empty.backend);
    expect(await screen.findByText(/No batches yet/)).toBeInTheDocument();
  });
});
