import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { message } from '../test/messages';
import { Alternatives, neighbours } from './Alternatives';

describe('neighbours', () => {
  it.each([
    [[1], 1, undefined, undefined],
    [[4, 9], 1, undefined, 9],
    [[4, 9], 2, 4, undefined],
    [[4, 9, 12], 2, 4, 12],
  ])('of %j at %i: previous %s, next %s', (ids, at, previous, next) => {
    const m = message('assistant', 'a', { sibling_ids: ids, alternative: at, alternatives: ids.length });
    expect(neighbours(m)).toEqual({ previous, next, at, of: ids.length });
  });

  it('treats a message from an older server, without the fields, as the only one', () => {
    expect(neighbours(message('assistant', 'a'))).toEqual({ previous: undefined, next: undefined, at: 1, of: 0 });
  });
});

describe('Alternatives', () => {
  it('shows nothing for a message without alternatives', () => {
    const { container } = render(
      <Alternatives
        message={message('assistant', 'a', { sibling_ids: [5], alternative: 1 })}
        busy={false}
        onSelect={() => {}}
      />,
    );
    expect(container).toBeEmptyDOMElement();
  });

  it('shows "2/3" and steps to the neighbouring ids', async () => {
    const chosen: number[] = [];
    render(
      <Alternatives
        message={message('assistant', 'a', { id: 9, sibling_ids: [4, 9, 12], alternative: 2, alternatives: 3 })}
        busy={false}
        onSelect={(id) => chosen.push(id)}
      />,
    );
    expect(screen.getByRole('group', { name: 'answer 2 of 3' })).toHaveTextContent('‹2/3›');
    await userEvent.click(screen.getByRole('button', { name: 'Previous answer' }));
    await userEvent.click(screen.getByRole('button', { name: 'Next answer' }));
    expect(chosen).toEqual([4, 12]);
  });

  it('cannot step past either end, nor while an answer is written', () => {
    const first = message('user', 'q', { id: 4, sibling_ids: [4, 9], alternative: 1, alternatives: 2 });
    const { rerender } = render(<Alternatives message={first} busy={false} onSelect={() => {}} />);
    expect(screen.getByRole('button', { name: 'Previous version' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Next version' })).toBeEnabled();
    rerender(<Alternatives message={first} busy onSelect={() => {}} />);
    expect(screen.getByRole('button', { name: 'Next version' })).toBeDisabled();
  });
});
