/**
 * Character checks shared by the clock and the protocol (a leaf module: it imports nothing, so
 * neither of them has to import the other for it).
 *
 * @module
 */

// A surrogate code point (category Cs). With the `u` flag a well-formed pair is read as one
// (supplementary) code point, so only a lone high or low surrogate is one.
const LONE_SURROGATE = /\p{Cs}/u;
// A control character (category Cc: the C0 controls, DEL and the C1 controls).
const CONTROL = /\p{Cc}/u;

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
