/**
 * Lowercase hex digits as char codes, for the two encoders that build their text with one
 * `String.fromCharCode` (the HLC timestamp and the UUIDv7 mutation id): a concatenation of
 * pieces would leave a tree of cons strings inside every mutation that keeps the text. A leaf
 * module, like `unicode.ts`.
 *
 * @module
 */

const HEX = '0123456789abcdef';

/**
 * Appends the `digits` lowest hex digits of `value` (at most 8: bits above 32 are not read) to
 * `codes`, most significant first.
 */
export function pushHex(codes: number[], value: number, digits: number): void {
  for (let shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
    codes.push(HEX.charCodeAt((value >>> shift) & 0xf));
  }
}
