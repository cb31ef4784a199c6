import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Conversation } from '../api/types';
import { FakeBackend, json } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { ConversationList } from './ConversationList';

const NOW = new Date(2024, 5, 12, 9, 30);

function conv(id: string, title: string, updated: Date, extra: Partial<Conversation> = {}): Conversation {
  const iso = updated.toISOString();
  return { id, title, system_prompt: null, model: null, created_at: iso, updated_at: iso, ...extra };
}

describe('ConversationList headings and search snippets', () => {
  it('groups conversations under date headings read against the clock', async () => {
    const items = [
      conv('a', 'Morning notes', new Date(2024, 5, 12, 8)),
      conv('b', 'Last night', new Date(2024, 5, 11, 22)),
      conv('c', 'Weekend plans', new Date(2024, 5, 8)),
      conv('d', 'Old budget', new Date(2023, 10, 2)),
    ];
    const backend = new FakeBackend().on('GET', /^\/api\/conversations/, () =>
      json({ items, total: items.length, offset: 0, limit: 100 }),
    );
    renderWithApp(<ConversationList activeId={null} now={() => NOW} />, backend);
    await screen.findByText('Morning notes');
    const headings = screen.getAllByRole('heading', { level: 3 }).map((h) => h.textContent);
    expect(headings).toEqual(['Today', 'Yesterday', 'Previous 7 days', 'November 2023']);
    const yesterday = screen.getByRole('list', { name: 'Yesterday' });
    expect(within(yesterday).getByText('Last night')).toBeInTheDocument();
  });

  it('shows the matching piece of a message with the match marked, as text', async () => {
    const hit = conv('a', 'Trip', new Date(2024, 5, 12, 8), {
      snippet: [
        { text: '…temples are quieter in the early ', match: false },
        { text: 'morning', match: true },
        { text: '<b>not html</b>', match: false },
      ],
    });
    const titled = conv('b', 'Morning notes', new Date(2024, 5, 12, 7), { snippet: null });
    const backend = new FakeBackend().on('GET', /^\/api\/conversations/, (call) => {
      const found = call.path.includes('q=') ? [hit, titled] : [];
      return json({ items: found, total: found.length, offset: 0, limit: 100 });
    });
    renderWithApp(<ConversationList activeId={null} now={() => NOW} />, backend);
    await userEvent.type(screen.getByLabelText('Search conversations'), 'morning');
    const snippet = await screen.findByTestId('conv-snippet');
    expect(snippet).toHaveTextContent('…temples are quieter in the early morning<b>not html</b>');
    expect(within(snippet).getByText('morning').tagName).toBe('MARK');
    expect(screen.getAllByTestId('conv-snippet')).toHaveLength(1); // the title match has none
  });
});
