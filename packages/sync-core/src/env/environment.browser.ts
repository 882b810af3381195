import { environmentWith, type HostDefaults } from './environment.js';
import type { SyncEnvironment } from './types.js';

/** A browser: the global timers as they are, and `crypto.getRandomValues`, which every browser has. */
const BROWSER_HOST: HostDefaults = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as number),
  randomBytes: () => (target) => globalThis.crypto.getRandomValues(target),
};

/**
 * `createEnvironment` of the browser build (the `browser` export condition): the same sources,
 * without what only other runtimes need (Node's `setImmediate` for a zero delay, the typed
 * error of a runtime without `crypto.getRandomValues`).
 *
 * @param overrides - replacements, e.g. virtual time from a simulator
 */
export function createEnvironment(overrides: Partial<SyncEnvironment> = {}): SyncEnvironment {
  return environmentWith(BROWSER_HOST, overrides);
}
