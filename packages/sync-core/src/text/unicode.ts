/**
 * Character checks shared by the clock and the protocol (a leaf module: it imports nothing, so
 * neither of them has to import the other for it).
 *
 * @module
 */

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// C0 controls, DEL and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** `true` when `value` contains a lone UTF-16 surrogate (not representable in UTF-8). */
export function hasLoneSurrogate(value: string): boolean {
  // One regex at every length: a loop that first ruled out any surrogate in short strings
  // was slower than the regex (Node 20, CPU time: ~27 ns and ~48 ns a call for 8- and
  // 40-character ids and HLCs, ~12 ns with the regex).
  return LONE_SURROGATE.test(value);
}

/** `true` when `value` contains a C0/C1 control character or DEL (NUL included). */
export function hasControl(value: string): boolean {
  return CONTROL.test(value);
}
