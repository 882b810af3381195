/**
 * Anti-vacuity counters: a run that passed but exercised nothing is worthless, so every fault
 * that fired, every dedupe hit, every resolver that resolved a real conflict and every path
 * taken (purge, reset, crash point, rejection) is counted and printed on every run.
 *
 * @module
 */

/** A bag of named counts that can be merged across seeds (the gates are `REQUIRED_COUNTERS` in report.ts). */
export class SimCounters {
  readonly #counts = new Map<string, number>();

  /** Adds `by` (default 1) to `name`. */
  add(name: string, by = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + by);
  }

  /** The count of `name` (0 if never added). */
  get(name: string): number {
    return this.#counts.get(name) ?? 0;
  }

  /** Adds every count of `other` to this bag. */
  merge(other: SimCounters): void {
    for (const [name, count] of other.entries()) this.add(name, count);
  }

  /** Every `[name, count]`, sorted by name. */
  entries(): Array<[string, number]> {
    return [...this.#counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** A plain object of the counts, sorted by name. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.entries());
  }

  /** The names among `required` whose count is below `minimum`. */
  missing(required: readonly string[], minimum = 1): string[] {
    return required.filter((name) => this.get(name) < minimum);
  }
}
