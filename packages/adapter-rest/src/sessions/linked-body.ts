/**
 * An asset request's body that its caller's signal can abort until it ends: the `linkBody` of
 * the asset part's requests (see `HttpRequest.linkBody`).
 *
 * @module
 */

/**
 * `response` with a body that calls `release` (which lets go of the caller's signal) once it
 * ends, fails or is cancelled: a long-lived signal, such as a signed-in session's, does not
 * collect a listener per request.
 */
export function linkedBody(response: Response, release: () => void): Response {
  if (response.body === null) {
    release();
    return response;
  }
  return new Response(untilEnd(response.body, release), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** `body`, calling `release` once when it ends, fails or is cancelled. */
function untilEnd(
  body: ReadableStream<Uint8Array>,
  release: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (error) {
          release();
          throw error;
        }
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
