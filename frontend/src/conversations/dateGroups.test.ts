import { dateGroup, groupByDate } from './dateGroups';

// A fixed clock, local time: Wednesday 12 June 2024, 09:30.
const NOW = new Date(2024, 5, 12, 9, 30);
const at = (y: number, m: number, d: number, h = 12, min = 0) => new Date(y, m - 1, d, h, min).toISOString();

describe('dateGroup', () => {
  it.each([
    ['earlier today', at(2024, 6, 12, 0, 5), 'Today'],
    ['a clock a little ahead', at(2024, 6, 12, 23, 59), 'Today'],
    ['late yesterday', at(2024, 6, 11, 23, 59), 'Yesterday'],
    ['early yesterday', at(2024, 6, 11, 0, 1), 'Yesterday'],
    ['two days ago', at(2024, 6, 10), 'Previous 7 days'],
    ['seven days ago', at(2024, 6, 5), 'Previous 7 days'],
    ['eight days ago', at(2024, 6, 4), 'Previous 30 days'],
    ['thirty days ago', at(2024, 5, 13), 'Previous 30 days'],
    ['thirty-one days ago', at(2024, 5, 12), 'May'],
    ['earlier this year', at(2024, 1, 2), 'January'],
    ['last year', at(2023, 12, 31), 'December 2023'],
  ])('%s → %s', (_why, iso, label) => {
    expect(dateGroup(iso, NOW)?.label).toBe(label);
  });

  it('cannot place a date it cannot read', () => {
    expect(dateGroup('not a date', NOW)).toBeNull();
  });

  it('counts calendar days across a daylight-saving change', () => {
    // Whatever the zone, midnight-to-midnight rounding keeps 1 day as Yesterday.
    const now = new Date(2024, 2, 31, 8, 0);
    expect(dateGroup(new Date(2024, 2, 30, 8, 0).toISOString(), now)?.label).toBe('Yesterday');
  });
});

describe('groupByDate', () => {
  it('keeps the order and puts each item under its heading once', () => {
    const items = [
      { id: 'a', when: at(2024, 6, 12, 9) },
      { id: 'b', when: at(2024, 6, 12, 8) },
      { id: 'c', when: at(2024, 6, 11) },
      { id: 'd', when: at(2024, 6, 1) },
      { id: 'e', when: at(2024, 3, 3) },
      { id: 'f', when: at(2024, 3, 1) },
      { id: 'g', when: at(2022, 3, 1) },
      { id: 'h', when: at(2024, 6, 12, 1) }, // out of order: joins Today
    ];
    const groups = groupByDate(items, (i) => i.when, NOW);
    expect(groups.map((g) => [g.label, g.items.map((i) => i.id).join('')])).toEqual([
      ['Today', 'abh'],
      ['Yesterday', 'c'],
      ['Previous 30 days', 'd'],
      ['March', 'ef'],
      ['March 2022', 'g'],
    ]);
  });

  it('gives nothing for nothing', () => {
    expect(groupByDate([], () => '', NOW)).toEqual([]);
  });
});
