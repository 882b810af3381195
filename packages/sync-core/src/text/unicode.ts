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
  if (value.length > 64) return LONE_SURROGATE.test(value);
  // Short strings (ids, HLCs, keys) rarely hold a surrogate at all: a loop rules that out
  // for less than the regex call costs.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return LONE_SURROGATE.test(value);
  }
  return false;
}

/** `true` when `value` contains a C0/C1 control character or DEL (NUL included). */
export function hasControl(value: string): boolean {
  return CONTROL.test(value);
}
