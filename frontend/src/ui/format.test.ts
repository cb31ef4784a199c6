import { formatBytes, formatCount, formatDuration, formatMs, formatPercent, formatRate, plural } from './format';

describe('format', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [12288 * 1024 * 1024, '12.0 GiB'],
    [null, '—'],
  ])('bytes %s -> %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it.each([
    [0.4, '0 s'],
    [59, '59 s'],
    [61, '1 min 1 s'],
    [3725, '1 h 2 min'],
    [null, '—'],
  ])('duration %s -> %s', (s, text) => expect(formatDuration(s)).toBe(text));

  it('rates, percents, counts and milliseconds', () => {
    expect(formatRate(10 * 1024 * 1024)).toBe('10.0 MiB/s');
    expect(formatRate(0)).toBe('—');
    expect(formatPercent(50, 200)).toBe('25%');
    expect(formatPercent(300, 200)).toBe('100%');
    expect(formatPercent(1, null)).toBe('');
    expect(formatCount(134_515_008)).toBe('135M');
    expect(formatCount(1_500)).toBe('1.5k');
    expect(formatMs(250)).toBe('250 ms');
    expect(formatMs(4820)).toBe('4.82 s');
  });
});

describe('plural', () => {
  it.each([
    [0, 'token', undefined, '0 tokens'],
    [1, 'token', undefined, '1 token'],
    [2, 'token', undefined, '2 tokens'],
    [1024, 'token', undefined, '1,024 tokens'],
    [1, 'library', 'libraries', '1 library'],
    [3, 'library', 'libraries', '3 libraries'],
    [1, 'NVIDIA GPU', undefined, '1 NVIDIA GPU'],
  ])('%i %s', (n, one, many, expected) => {
    expect(plural(n, one, many)).toBe(expected);
  });
});
