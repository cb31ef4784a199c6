import { PendingDeletes } from './pendingDeletes';

describe('PendingDeletes', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('commits after the delay unless cancelled; abandoning commits nothing', () => {
    const committed: string[] = [];
    const deletes = new PendingDeletes(1000);
    deletes.schedule('a', () => void committed.push('a'));
    deletes.schedule('b', () => void committed.push('b'));
    deletes.schedule('c', () => void committed.push('c'));
    expect(deletes.cancel('b')).toBe(true);
    expect(deletes.cancel('b')).toBe(false);
    vi.advanceTimersByTime(999);
    expect(committed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(committed).toEqual(['a', 'c']);
    deletes.schedule('d', () => void committed.push('d'));
    deletes.abandonAll();
    vi.advanceTimersByTime(5000);
    expect(committed).toEqual(['a', 'c']);
  });
});
