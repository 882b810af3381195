/**
 * How an asset chunk goes on the wire: a stream of one chunk where the fetch is Node's own
 * (undici copies a byte body twice: into its own buffer, then again for the request's clone
 * kept for redirects; a stream body not at all), the bytes themselves elsewhere (browsers'
 * fetch cannot stream a request body over HTTP/1.1).
 *
 * @module
 */

const OCTETS = 'application/octet-stream';

/** The fetch options (`body`, `duplex`) and headers of one chunk's upload. */
export function uploadBody(
  chunk: Uint8Array,
  stream: boolean | undefined,
): { init: RequestInit & { duplex?: 'half' }; headers: Record<string, string> } {
  if (!(stream ?? globalFetchIsNodes())) {
    return { init: { body: chunk as BodyInit }, headers: { 'content-type': OCTETS } };
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (chunk.byteLength > 0) controller.enqueue(chunk);
      controller.close();
    },
  });
  return {
    init: { body, duplex: 'half' },
    headers: { 'content-type': OCTETS, 'content-length': String(chunk.byteLength) },
  };
}

/**
 * Whether the global `fetch` is Node's own (undici); not in a browser, nor in an Electron
 * renderer (Chromium's fetch, though `process` is there).
 */
export function globalFetchIsNodes(): boolean {
  const host = globalThis as {
    process?: { versions?: { undici?: unknown } };
    document?: unknown;
  };
  return typeof host.process?.versions?.undici === 'string' && host.document === undefined;
}
