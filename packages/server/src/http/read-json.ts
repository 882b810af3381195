/**
 * Reading a JSON body under hard limits, cheapest check first: the media type, the declared
 * `Content-Length`, the bytes actually streamed (so a chunked 100 MB body is cut off after
 * `maxBodyBytes`, with memory bounded by that), strict UTF-8, then the nesting depth on the
 * raw text before `JSON.parse` (so a 100 000-deep array never reaches the parser).
 *
 * @module
 */
import { problem } from './problem.js';

/** Limits of {@link readJson}. */
export interface ReadJsonLimits {
  /** Largest body in bytes. */
  maxBodyBytes: number;
  /** Deepest nesting of arrays and objects in the whole body. */
  maxDepth: number;
  /** `details` of the 413 answer (the limits a client should learn). @default `{ maxBodyBytes }` */
  tooLargeDetails?: Record<string, number>;
}

/** Reads and parses the body of a JSON request; throws 415, 413 or 400 problems. */
export async function readJson(request: Request, limits: ReadJsonLimits): Promise<unknown> {
  return (await readJsonSized(request, limits)).value;
}

/** {@link readJson}, also telling the body's size in bytes. */
export async function readJsonSized(
  request: Request,
  limits: ReadJsonLimits,
): Promise<{ value: unknown; bytes: number }> {
  requireJsonMediaType(request);
  const details = limits.tooLargeDetails ?? { maxBodyBytes: limits.maxBodyBytes };
  const { text, bytes } = await readText(request, limits.maxBodyBytes, details);
  if (text.trim() === '') throw problem(400, 'invalid', 'the request body is empty');
  if (depthExceeds(text, limits.maxDepth)) {
    throw problem(400, 'invalid', `the body is nested deeper than ${limits.maxDepth} levels`);
  }
  try {
    return { value: JSON.parse(text) as unknown, bytes };
  } catch {
    throw problem(400, 'invalid', 'the request body is not valid JSON');
  }
}

function requireJsonMediaType(request: Request): void {
  const header = request.headers.get('content-type') ?? '';
  const [type = '', ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length);
  if (
    type !== 'application/json' ||
    (charset !== undefined && charset.replaceAll('"', '') !== 'utf-8')
  ) {
    throw problem(415, 'unsupported_media_type', 'the body must be application/json (UTF-8)');
  }
}

async function readText(
  request: Request,
  maxBytes: number,
  details: Record<string, number>,
): Promise<{ text: string; bytes: number }> {
  const tooLarge = () =>
    problem(413, 'too_large', `the request body is larger than ${maxBytes} bytes`, { details });
  const declared = request.headers.get('content-length');
  if (declared !== null && (!/^\d+$/.test(declared.trim()) || Number(declared) > maxBytes)) {
    await request.body?.cancel().catch(() => undefined);
    throw /^\d+$/.test(declared.trim())
      ? tooLarge()
      : problem(400, 'invalid', 'bad Content-Length');
  }
  const body = request.body;
  if (body === null) return { text: '', bytes: 0 };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The connection broke or the server's request timeout cut a body that never came
      // whole: the client's fault, not a 500 (and usually nobody is left to read the answer).
      throw problem(408, 'timeout', 'the request body was not received in full');
    }
    const { done, value } = chunk;
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), bytes: total };
  } catch {
    throw problem(400, 'invalid', 'the request body is not valid UTF-8');
  }
}

/** `true` when arrays/objects in the JSON text nest deeper than `max` (strings are skipped). */
export function depthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
