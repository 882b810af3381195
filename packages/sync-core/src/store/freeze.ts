/**
 * Freezes a JSON value and everything in it, so view records can be handed to the app and kept
 * by reference (stable snapshots) without a defensive copy. Already-frozen subtrees are
 * skipped, which keeps refreezing shared data cheap.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    // Indexed: an iterator per array adds up over a page of records.
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
