import { describe, expect, it } from 'vitest';
import { WrittenBytes } from './upload-chunks.js';

function bytes(start: number, length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (start + i) & 0xff);
}

/** The pieces joined, to compare with the bytes they cover. */
function joined(pieces: readonly Uint8Array[] | undefined): Uint8Array | undefined {
  if (pieces === undefined) return undefined;
  return new Uint8Array(pieces.flatMap((piece) => [...piece]));
}

describe('WrittenBytes: the bytes last written, kept for the upload', () => {
  it('hands out a range as views of the pieces that hold it, and lets go of the ones behind it', () => {
    const written = new WrittenBytes(1000);
    const pieces = [bytes(0, 300), bytes(300, 300), bytes(600, 300)];
    written.advance(900, pieces);
    const first = written.take(0, 400);
    expect(first?.map((piece) => piece.buffer)).toEqual([pieces[0]?.buffer, pieces[1]?.buffer]);
    expect(joined(first)).toEqual(bytes(0, 400));
    // The first piece ended within the range taken: it is gone; the second is still kept.
    expect(written.take(0, 300)).toBeUndefined();
    expect(joined(written.take(400, 900))).toEqual(bytes(400, 500));
    expect(written.take(600, 900)).toBeUndefined();
  });

  it('keeps at most keepBytes: the oldest pieces go first, and are then read elsewhere', () => {
    const written = new WrittenBytes(500);
    written.advance(300, [bytes(0, 300)]);
    written.advance(600, [bytes(300, 300)]);
    expect(written.take(0, 300)).toBeUndefined();
    expect(joined(written.take(300, 600))).toEqual(bytes(300, 300));
  });

  it('keeps nothing without keepBytes, or once the writing failed', async () => {
    const none = new WrittenBytes();
    none.advance(100, [bytes(0, 100)]);
    expect(none.take(0, 100)).toBeUndefined();
    await none.until(100); // the offset itself still advances
    const failed = new WrittenBytes(1000);
    failed.advance(100, [bytes(0, 100)]);
    failed.fail(new Error('disk full'));
    expect(failed.take(0, 100)).toBeUndefined();
    await expect(failed.until(200)).rejects.toMatchObject({ kind: 'storage' });
  });

  it('a range only partly kept is not handed out', () => {
    const written = new WrittenBytes(1000);
    written.advance(200, [bytes(0, 200)]);
    expect(written.take(100, 300)).toBeUndefined();
    expect(written.take(150, 150)).toBeUndefined(); // empty: nothing to hand out
  });
});
