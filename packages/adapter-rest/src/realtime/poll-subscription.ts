/**
 * The `'poll'` realtime mode, for hosts where a long-lived response is cut (some serverless
 * platforms and corporate proxies): no stream, just a catch-up hint every interval. The client
 * answers `onConnect` with a pull of every scope, exactly as after an event-stream reconnect.
 *
 * @module
 */
import type { HttpTimers } from '../http/http-client.js';

/**
 * Options of {@link subscribePolling}: the subscription's `onConnect`, and `restTransport`'s
 * `pollIntervalMs`, passed as they are.
 */
export interface PollSubscriptionOptions {
  onConnect?: (() => void) | undefined;
  /** @default 10000 */
  pollIntervalMs?: number | undefined;
  timers: HttpTimers;
}

/** Calls `onConnect` soon, then every `pollIntervalMs`, until the returned function is called. */
export function subscribePolling(options: PollSubscriptionOptions): () => void {
  const { onConnect, pollIntervalMs = 10_000, timers } = options;
  let stopped = false;
  // Set before `subscribePolling` returns (the first tick is scheduled at once).
  let timer: unknown;
  const tick = (delay: number) => {
    // Cleared by the unsubscribe; not set again once `onConnect` unsubscribed.
    timer = timers.setTimeout(() => {
      try {
        onConnect?.();
      } catch {
        // A throwing listener must not stop the polling.
      }
      if (!stopped) tick(pollIntervalMs);
    }, delay);
  };
  // The first hint is asynchronous, so `subscribe` never calls back into its caller.
  tick(0);
  return () => {
    stopped = true;
    timers.clearTimeout(timer);
  };
}
