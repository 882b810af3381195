/**
 * The `'poll'` realtime mode, for hosts where a long-lived response is cut (some serverless
 * platforms and corporate proxies): no stream, just a catch-up hint every interval. The client
 * answers `onConnect` with a pull of every scope, exactly as after an event-stream reconnect.
 *
 * @module
 */
import type { HttpTimers } from '../http/http-client.js';

/** Options of {@link subscribePolling}. */
export interface PollSubscriptionOptions {
  onConnect: (() => void) | undefined;
  intervalMs: number;
  timers: HttpTimers;
}

/** Calls `onConnect` soon, then every `intervalMs`, until the returned function is called. */
export function subscribePolling(options: PollSubscriptionOptions): () => void {
  const { onConnect, intervalMs, timers } = options;
  let stopped = false;
  let timer: unknown = null;
  const tick = (delay: number) => {
    timer = timers.setTimeout(() => {
      if (stopped) return;
      try {
        onConnect?.();
      } catch {
        // A throwing listener must not stop the polling.
      }
      tick(intervalMs);
    }, delay);
  };
  // The first hint is asynchronous, so `subscribe` never calls back into its caller.
  tick(0);
  return () => {
    stopped = true;
    if (timer !== null) timers.clearTimeout(timer);
  };
}
