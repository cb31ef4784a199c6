import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeBackend, apiError, json } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { Sources } from './Sources';

const tides = { file: 'moon notes.md', heading: 'Tides', score: 0.71, chunk_id: 'd1:1', library_id: 'l1' };
const gone = { file: 'old.txt', page: 2, score: 0.4, chunk_id: 'd2:0', library_id: 'l1' };

function backend() {
  return new FakeBackend()
    .on('GET', '/api/libraries/l1/chunks/d1%3A1', () =>
      json({
        ...tides,
        document_id: 'd1',
        text: "The moon's pull raises the tides of the oceans, twice a day.",
        path: '/data/documents/l1/moon notes.md',
      }),
    )
    .on('GET', '/api/libraries/l1/chunks/d2%3A0', () => apiError(404, 'chunk_not_found', 'chunk d2:0 not found'));
}

describe('Sources', () => {
  it('opens the excerpt a source came from, and Escape closes it', async () => {
    const fake = backend();
    renderWithApp(<Sources citations={[tides, gone]} />, fake);
    await userEvent.click(screen.getByRole('button', { name: /moon notes\.md/ }));
    const dialog = await screen.findByRole('dialog', { name: 'moon notes.md' });
    expect(within(dialog).getByText('Tides')).toBeInTheDocument();
    expect(await within(dialog).findByTestId('excerpt-text')).toHaveTextContent(
      "The moon's pull raises the tides of the oceans, twice a day.",
    );
    // The stored copy's path is the app's business, not shown.
    expect(dialog).not.toHaveTextContent('/data/documents');
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(fake.callsTo('GET', '/api/libraries/l1/chunks/d1%3A1')).toHaveLength(1);
  });

  it('says in plain words when the passage is gone, and Close closes', async () => {
    renderWithApp(<Sources citations={[tides, gone]} />, backend());
    await userEvent.click(screen.getByRole('button', { name: /old\.txt/ }));
    const dialog = await screen.findByRole('dialog', { name: 'old.txt' });
    expect(within(dialog).getByText('page 2')).toBeInTheDocument();
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'This passage is no longer in the library: its document was removed or changed since this answer.',
    );
    await userEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('lists a source saved without its library, not clickable', () => {
    renderWithApp(<Sources citations={[{ file: 'notes.md', score: 0.5, chunk_id: 'b2' }]} />, backend());
    expect(screen.getByText('notes.md')).toBeInTheDocument();
    expect(screen.queryByRole('button')).toBeNull();
  });
});
