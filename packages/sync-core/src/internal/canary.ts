/**
 * Deliberately planted bugs that the simulator must catch ("test the tests", issue 4).
 *
 * The switch is `globalThis.__SYNCLINE_CANARY__`. The published build replaces that
 * expression with `undefined` (see tsup.config.ts `define`), so every canary branch is dead
 * code there and is removed: canaries never ship. Tests that run the sources set it.
 */
export type Canary =
  | 'dedupe-off'
  | 'outbox-remove-on-send'
  | 'checkpoint-before-rows'
  | 'wall-clock-lww'
  | 'no-rebase';

declare global {
  var __SYNCLINE_CANARY__: Canary | undefined;
}

/** `true` when the named canary bug is switched on (only ever in tests of the sources). */
export function canary(name: Canary): boolean {
  return globalThis.__SYNCLINE_CANARY__ === name;
}
