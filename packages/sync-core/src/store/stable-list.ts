/** The empty list snapshot (frozen; one for every list, whatever its item type). */
export const EMPTY_LIST: readonly never[] = Object.freeze([]);

/**
 * `cached` again when `values` holds exactly its items (by reference, in order), else `values`
 * itself, frozen (the caller hands over an array it no longer changes): list snapshots (query
 * results, dead letters, conflicts) stay the same array for React until they change.
 */
export function stableList<T>(cached: readonly T[], values: T[] | readonly T[]): readonly T[] {
  if (cached.length === values.length && cached.every((item, i) => item === values[i])) {
    return cached;
  }
  return Object.freeze(values);
}
