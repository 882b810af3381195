/**
 * One string per (collection, id), for maps keyed by record. Collection names cannot contain
 * NUL (see `isCollection`), so the key is unambiguous.
 */
export function recordKey(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}
