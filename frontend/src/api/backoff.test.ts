import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  const none = () => 0;
  const most = () => 1;

  it.each([
    [0, 1000],
    [1, 2000],
    [2, 4000],
    [4, 16_000],
    [5, 30_000],
    [40, 30_000],
    [5000, 30_000],
    [-3, 1000],
  ])('retry %i waits %i ms without jitter', (attempt, ms) => {
    expect(backoffDelay(attempt, none)).toBe(ms);
  });

  it('jitter only shortens the wait, by at most its share', () => {
    expect(backoffDelay(0, most)).toBe(800);
    expect(backoffDelay(9, most)).toBe(24_000);
    expect(backoffDelay(9, () => 0.5)).toBe(27_000);
    for (let i = 0; i < 50; i++) {
      const ms = backoffDelay(i, Math.random);
      expect(ms).toBeGreaterThanOrEqual(800);
      expect(ms).toBeLessThanOrEqual(30_000);
    }
  });

  it('a random source out of range is clamped', () => {
    expect(backoffDelay(0, () => 7)).toBe(800);
    expect(backoffDelay(0, () => -1)).toBe(1000);
  });

  it('takes its own base, cap and jitter', () => {
    expect(backoffDelay(3, none, { baseMs: 250, capMs: 1500 })).toBe(1500);
    expect(backoffDelay(1, most, { baseMs: 250, jitter: 0 })).toBe(500);
  });
});
