/**
 * An asset download's body that its caller's signal can abort until it ends. The HTTP client
 * lets go of the caller's signal with the response headers (its deadline ends there); a
 * download's bytes take longer, and the caller may still abort them.
 *
 * @module
 */

/**
 * `response` with a body that `signal` aborts until the body ends, and that lets go of
 * `signal` once it ends, fails or is cancelled: a long-lived signal, such as a signed-in
 * session's, does not collect a listener per request.
 */
export function linkedBody(response: Response, signal: AbortSignal | undefined): Response {
  if (response.body === null || signal === undefined) return response;
  return new Response(untilEnd(response.body, signal), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** `body`, failed with `signal`'s reason when it aborts, until it ends, fails or is cancelled. */
function untilEnd(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let release: () => void = () => undefined;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const abort = () => {
          controller.error(signal.reason);
          reader.cancel(signal.reason).catch(() => undefined);
        };
        if (signal.aborted) {
          abort();
          return;
        }
        signal.addEventListener('abort', abort, { once: true });
        release = () => signal.removeEventListener('abort', abort);
      },
      async pull(controller) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (error) {
          release();
          throw error;
        }
        if (signal.aborted) return; // the stream failed with the signal's reason
        if (next.done) {
          release();
          controller.close();
        } else {
          controller.enqueue(next.value);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
