/**
 * An incremental parser of the `text/event-stream` format (WHATWG HTML §9.2.6), for reading
 * Server-Sent Events through `fetch`. `EventSource` cannot send an `Authorization` header, so
 * the adapter streams the body itself and needs a parser that survives any split of the
 * stream into chunks: a line, a CRLF pair or a multi-byte character may straddle two reads.
 *
 * @module
 */

// A line's field (up to the first colon) and value (after it and one optional space).
const FIELD_LINE = /^([^:]*):? ?(.*)$/s;

/** One dispatched event. */
export interface ServerSentEvent {
  /** The `event:` field, or `'message'` when the event named none. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last `id:` seen on the stream so far (the spec's "last event ID"), or `''`. */
  lastEventId: string;
}

/**
 * Parses text as it arrives. Feed it decoded text (use {@link EventStreamParser.feedBytes}
 * for raw bytes, which keeps multi-byte characters split across chunks intact); it returns the
 * events completed by that chunk. Comments (heartbeats) produce no event.
 */
export class EventStreamParser {
  #pending = '';
  #eventType = '';
  #data: string[] = [];
  #lastEventId = '';
  #retryMs: number | undefined;
  // What the next chunk may start with that is not a line of its own: one byte order mark at
  // the start of the stream; after a chunk that ended in CR, the LF of that CRLF.
  #skip = '\ufeff';
  readonly #decoder = new TextDecoder();

  /** The reconnection time the server asked for with a `retry:` field, in milliseconds. */
  get retryMs(): number | undefined {
    return this.#retryMs;
  }

  /** Decodes `bytes` (UTF-8, streaming) and parses the text. */
  feedBytes(bytes: Uint8Array): ServerSentEvent[] {
    return this.feed(this.#decoder.decode(bytes, { stream: true }));
  }

  /** Parses a chunk of text; returns the events it completed, in order. */
  feed(chunk: string): ServerSentEvent[] {
    if (chunk === '') return [];
    const text = chunk.startsWith(this.#skip) ? chunk.slice(this.#skip.length) : chunk;
    this.#skip = text.endsWith('\r') ? '\n' : '';
    const lines = (this.#pending + text).split(/\r\n|\r|\n/);
    // The last piece has no line ending yet.
    this.#pending = lines.pop() as string;
    const events: ServerSentEvent[] = [];
    for (const line of lines) {
      if (line === '') {
        // The end of an event: dispatched when it has data, unnamed it is a `message`.
        if (this.#data.length > 0) {
          events.push({
            event: this.#eventType || 'message',
            data: this.#data.join('\n'),
            lastEventId: this.#lastEventId,
          });
        }
        this.#eventType = '';
        this.#data = [];
        continue;
      }
      // `field:value`, one space after the colon dropped; a comment (a heartbeat) has no field.
      const [, field, value] = FIELD_LINE.exec(line) as RegExpExecArray & [string, string, string];
      switch (field) {
        case 'event':
          this.#eventType = value;
          break;
        case 'data':
          this.#data.push(value);
          break;
        case 'id':
          if (!value.includes('\u0000')) this.#lastEventId = value;
          break;
        case 'retry':
          if (/^\d+$/.test(value)) this.#retryMs = Number(value);
          break;
        default:
          // Comments and unknown fields are ignored, as the spec says.
          break;
      }
    }
    return events;
  }
}
