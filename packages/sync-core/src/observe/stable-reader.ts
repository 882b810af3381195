import { EMPTY_LIST, stableList } from '../store/stable-list.js';

/**
 * A list the app reads again and again (a query's result, the live replica's dead letters,
 * parked conflicts, invalid server records): `read` each time, answered as the same array until
 * an item changes (see `stableList`).
 */
export function stableReader<T>(read: () => readonly T[]): () => readonly T[] {
  let last: readonly T[] = EMPTY_LIST;
  return () => {
    last = stableList(last, read());
    return last;
  };
}
