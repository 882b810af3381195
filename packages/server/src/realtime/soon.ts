/**
 * The next turn of the event loop, on every runtime the handler runs on.
 *
 * @module
 */

interface ImmediateHost {
  setImmediate?: (callback: () => void) => unknown;
}

/**
 * Runs `fn` on the next turn of the event loop (`setImmediate` where it exists): after the
 * I/O that is already waiting, such as requests that arrived meanwhile.
 */
export function soon(fn: () => void): void {
  const host = globalThis as ImmediateHost;
  if (typeof host.setImmediate === 'function') host.setImmediate(fn);
  else setTimeout(fn, 0);
}
