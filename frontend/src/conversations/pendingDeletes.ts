// Deletes that wait a few seconds for an Undo. Leaving the page before then deletes nothing:
// when in doubt, keep the person's data.

export class PendingDeletes {
  private timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly delayMs: number) {}

  schedule(id: string, commit: () => void | Promise<void>): void {
    this.cancel(id);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        void commit();
      }, this.delayMs),
    );
  }

  /** True when the delete was still waiting (and now will not happen). */
  cancel(id: string): boolean {
    const timer = this.timers.get(id);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.timers.delete(id);
    return true;
  }

  has(id: string): boolean {
    return this.timers.has(id);
  }

  abandonAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
