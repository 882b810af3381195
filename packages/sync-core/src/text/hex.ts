/**
 * Lowercase hex digits, for the two encoders of the protocol's fixed-width texts (the HLC
 * timestamp and the UUIDv7 mutation id). Each joins its pieces with `Array#join`, which makes
 * one flat string: a concatenation (`+`, a template) would leave a tree of cons strings inside
 * every mutation that keeps the text. A leaf module, like `unicode.ts`.
 *
 * @module
 */

/** `value` (a non-negative integer below 2^53) in lowercase hex, zero-padded to `digits`. */
export function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}
