import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventStreamParser, type ServerSentEvent } from '../src/realtime/event-stream-parser.js';

function parseAll(chunks: readonly string[]): { events: ServerSentEvent[]; retryMs?: number } {
  const parser = new EventStreamParser();
  const events = chunks.flatMap((chunk) => parser.feed(chunk));
  return parser.retryMs === undefined ? { events } : { events, retryMs: parser.retryMs };
}

function parseBytes(chunks: readonly Uint8Array[]): ServerSentEvent[] {
  const parser = new EventStreamParser();
  return chunks.flatMap((chunk) => parser.feedBytes(chunk));
}

/** Cuts `text` at the given sorted, distinct positions. */
function splitAt<T extends { slice(start: number, end?: number): T; length: number }>(
  whole: T,
  cuts: number[],
): T[] {
  const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
  const parts: T[] = [];
  let start = 0;
  for (const point of points) {
    parts.push(whole.slice(start, point));
    start = point;
  }
  parts.push(whole.slice(start));
  return parts;
}

describe('EventStreamParser', () => {
  it('parses events, multi-line data, comments and named events', () => {
    const { events } = parseAll([
      ': heartbeat\n\n',
      'event: poke\ndata: {"scope":"user:1","version":3}\n\n',
      'data: line one\ndata: line two\n\n',
      'id: 7\nevent:custom\ndata:no-space\n\n',
    ]);
    expect(events).toEqual([
      { event: 'poke', data: '{"scope":"user:1","version":3}', lastEventId: '' },
      { event: 'message', data: 'line one\nline two', lastEventId: '' },
      { event: 'custom', data: 'no-space', lastEventId: '7' },
    ]);
  });

  it('accepts CR, LF and CRLF line endings, including a CRLF cut between two chunks', () => {
    const { events } = parseAll(['data: a\r', '\n\r', '\ndata: b\r\rdata: c\n\n']);
    expect(events.map((e) => e.data)).toEqual(['a', 'b', 'c']);
  });

  it('takes `retry:` only when it is all digits, and ignores unknown fields', () => {
    expect(parseAll(['retry: 2500\n\n']).retryMs).toBe(2500);
    expect(parseAll(['retry: 25x\n\n']).retryMs).toBeUndefined();
    expect(parseAll(['foo: bar\ndata: x\n\n']).events).toEqual([
      { event: 'message', data: 'x', lastEventId: '' },
    ]);
  });

  it('dispatches nothing for an event without data, and drops an unterminated last event', () => {
    expect(parseAll(['event: poke\n\n', 'data: tail']).events).toEqual([]);
    expect(parseAll(['data:\n\n']).events).toEqual([
      { event: 'message', data: '', lastEventId: '' },
    ]);
  });

  it('skips one leading byte order mark only', () => {
    expect(parseAll(['\ufeffdata: x\n\n']).events.map((e) => e.data)).toEqual(['x']);
    expect(parseAll(['data: \ufeffx\n\n']).events.map((e) => e.data)).toEqual(['\ufeffx']);
  });

  const field = fc.constantFrom('data', 'event', 'id', 'retry', 'x-unknown');
  // Values cover multi-byte characters (é, emoji) and colons, never a line break.
  const value = fc
    .array(fc.constantFrom('a', 'z', '0', ' ', ':', '{', '"', ',', 'é', '😀'), { maxLength: 12 })
    .map((chars) => chars.join(''));
  const line = fc.oneof(
    fc.tuple(field, value).map(([f, v]) => `${f}: ${v}`),
    fc.tuple(field, value).map(([f, v]) => `${f}:${v}`),
    value.map((v) => `:${v}`),
    fc.constant(''),
  );
  const newline = fc.constantFrom('\n', '\r', '\r\n');
  const stream = fc
    .array(fc.tuple(line, newline), { maxLength: 40 })
    .map((lines) => lines.map(([l, n]) => l + n).join(''));

  it('yields the same events however the text is cut into chunks', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const whole = parseAll([text]);
        expect(parseAll(splitAt(text, cuts))).toEqual(whole);
        // One character at a time is the harshest split.
        expect(parseAll([...text])).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('yields the same events however the UTF-8 bytes are cut, even inside a character', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const bytes = encoder.encode(text);
        expect(parseBytes(splitAt(bytes, cuts))).toEqual(parseAll([text]).events);
      }),
      { numRuns: 300 },
    );
  });
});
