// The conversation list's date headings, as ChatGPT and Jan show them: Today, Yesterday, Previous
// 7 days, Previous 30 days, then one per month ("March", or "March 2024" in an earlier year). Pure:
// the clock is an argument, and days are the person's local calendar days.

export interface DateGroup<T> {
  key: string;
  label: string;
  items: T[];
}

const DAY_MS = 86_400_000;

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** The heading one date falls under, seen from `now`; null for a date that cannot be read. */
export function dateGroup(iso: string, now: Date): { key: string; label: string } | null {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  // Rounded: a day with a daylight-saving change is 23 or 25 hours long.
  const days = Math.round((startOfDay(now) - startOfDay(date)) / DAY_MS);
  if (days <= 0) return { key: 'today', label: 'Today' }; // also a clock slightly ahead
  if (days === 1) return { key: 'yesterday', label: 'Yesterday' };
  if (days <= 7) return { key: '7d', label: 'Previous 7 days' };
  if (days <= 30) return { key: '30d', label: 'Previous 30 days' };
  const month = date.toLocaleDateString('en', { month: 'long' });
  const year = date.getFullYear();
  return {
    key: `${year}-${String(date.getMonth() + 1).padStart(2, '0')}`,
    label: year === now.getFullYear() ? month : `${month} ${year}`,
  };
}

/**
 * Items (newest first, as the backend lists them) under their headings, order kept. A heading
 * seen again later (an item out of order) joins the group already there rather than repeating.
 */
export function groupByDate<T>(items: T[], when: (item: T) => string, now: Date): DateGroup<T>[] {
  const groups: DateGroup<T>[] = [];
  const byKey = new Map<string, DateGroup<T>>();
  for (const item of items) {
    const found = dateGroup(when(item), now) ?? { key: 'undated', label: 'Undated' };
    let group = byKey.get(found.key);
    if (!group) {
      group = { ...found, items: [] };
      byKey.set(found.key, group);
      groups.push(group);
    }
    group.items.push(item);
  }
  return groups;
}
