import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Conversation } from '../api/types';
import { FakeBackend, json } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { ConversationList, UNDO_MS } from './ConversationList';

function conv(id: string, title: string | null): Conversation {
  return {
    id,
    title,
    system_prompt: null,
    model: null,
    created_at: '2026-01-01T10:00:00Z',
    updated_at: '2026-01-01T10:00:00Z',
  };
}

function fake(initial: Conversation[]) {
  let items = [...initial];
  const backend = new FakeBackend()
    .on('GET', /^\/api\/conversations(\?.*)?$/, (call) => {
      const q = new URL(`http://x${call.path}`).searchParams.get('q');
      const found = q ? items.filter((c) => (c.title ?? '').toLowerCase().includes(q.toLowerCase())) : items;
      return json({ items: found, total: found.length, offset: 0, limit: 100 });
    })
    .on('PATCH', /^\/api\/conversations\/(\w+)$/, (call, m) => {
      items = items.map((c) => (c.id === m[1] ? { ...c, ...(call.body as object) } : c));
      return json(items.find((c) => c.id === m[1]));
    })
    .on('DELETE', /^\/api\/conversations\/(\w+)$/, (_call, m) => {
      items = items.filter((c) => c.id !== m[1]);
      return json(null, 204);
    });
  return backend;
}

describe('ConversationList', () => {
  it('deletes only after the undo window, and Undo keeps it', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const backend = fake([conv('a', 'Trip to Paris'), conv('b', null)]);
      renderWithApp(<ConversationList activeId={null} />, backend);
      const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
      expect(await screen.findByText('Trip to Paris')).toBeInTheDocument();
      expect(screen.getByRole('link', { name: /New chat/ })).toBeInTheDocument();

      await user.click(screen.getByRole('button', { name: 'Delete “Trip to Paris”' }));
      expect(screen.queryByText('Trip to Paris')).toBeNull();
      await user.click(screen.getByRole('button', { name: 'Undo' }));
      expect(screen.getByText('Trip to Paris')).toBeInTheDocument();
      await act(async () => vi.advanceTimersByTime(UNDO_MS + 100));
      expect(backend.callsTo('DELETE', '/api/conversations/a')).toHaveLength(0);

      await user.click(screen.getByRole('button', { name: 'Delete “Trip to Paris”' }));
      await act(async () => vi.advanceTimersByTime(UNDO_MS + 100));
      expect(backend.callsTo('DELETE', '/api/conversations/a')).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('renames with Enter and cancels with Escape', async () => {
    const backend = fake([conv('a', 'Old title')]);
    renderWithApp(<ConversationList activeId="a" />, backend);
    await screen.findByText('Old title');
    await userEvent.click(screen.getByRole('button', { name: 'Rename “Old title”' }));
    await userEvent.type(screen.getByLabelText('New title'), 'Ignored{Escape}');
    expect(screen.getByText('Old title')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Rename “Old title”' }));
    const box = screen.getByLabelText('New title');
    await userEvent.clear(box);
    await userEvent.type(box, 'Recipes{Enter}');
    expect(await screen.findByText('Recipes')).toBeInTheDocument();
    expect(backend.callsTo('PATCH', '/api/conversations/a').map((c) => c.body)).toEqual([{ title: 'Recipes' }]);
    expect(screen.getByRole('link', { name: /Recipes/ })).toHaveAttribute('aria-current', 'page');
  });

  it('searches on the server and moves between results with the arrow keys', async () => {
    const backend = fake([conv('a', 'Paris trip'), conv('b', 'Pasta recipe'), conv('c', 'Berlin')]);
    renderWithApp(<ConversationList activeId={null} />, backend);
    await screen.findByText('Berlin');
    await userEvent.type(screen.getByLabelText('Search conversations'), 'pa');
    await vi.waitFor(() => expect(screen.queryByText('Berlin')).toBeNull());
    expect(backend.calls.some((c) => c.path.includes('q=pa'))).toBe(true);
    const links = within(screen.getByRole('navigation')).getAllByRole('link');
    links[0].focus();
    await userEvent.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(links[1]);
  });
});
