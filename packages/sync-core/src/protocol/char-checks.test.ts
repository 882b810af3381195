// The hand-written checks on the hot paths (isUuid, isHlc, record ids, data strings) against
// the regular expressions they replaced, on strings built to sit near every boundary.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHlc, parseHlc } from '../clock/hlc.js';
import { hasLoneSurrogate } from '../text/unicode.js';
import { isRecordId, isUuid } from './formats.js';
import { validateRecordData } from './validate.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const HLC = /^([0-9a-f]{12}):([0-9a-f]{4}):([^\u0000-\u001f\u007f]{1,256})$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Characters that matter to the checks: hex digits both cases, separators, controls, surrogates. */
const tricky = fc.constantFrom(
  ...'0123456789abcdefABCDEFgz-:: \n\t',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u0080',
  '\u009f',
  '\u00a0',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  'é',
  '\u2028',
);

/** `base` with up to three characters replaced, inserted or removed. */
function near(base: string): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), tricky);
  return fc.array(edit, { maxLength: 3 }).map((edits) => {
    let s = base;
    for (const [at, kind, ch] of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + (kind === 'insert' ? 1 : 0));
      if (kind === 'replace') s = s.slice(0, i) + ch + s.slice(i + 1);
      else if (kind === 'insert') s = s.slice(0, i) + ch + s.slice(i);
      else s = s.slice(0, i) + s.slice(i + 1);
    }
    return s;
  });
}

const anyText = fc.oneof(fc.string({ unit: tricky, maxLength: 40 }), fc.string({ unit: 'binary' }));

describe('hand-written checks agree with the regular expressions they replaced', () => {
  it('isUuid', () => {
    const samples = fc.oneof(near('018f2c1e-8b7a-7cde-9f01-0123456789ab'), fc.uuid(), anyText);
    fc.assert(
      fc.property(samples, (s) => {
        expect(isUuid(s)).toBe(UUID.test(s));
      }),
      {
        numRuns: 5000,
      },
    );
    expect(isUuid(42)).toBe(false);
  });

  it('isHlc', () => {
    const samples = fc.oneof(
      near('0190a1b2c3d4:0000:node-1'),
      near(`0190a1b2c3d4:00ff:${'n'.repeat(256)}`),
      near('0190a1b2c3d4:0001:x'),
      anyText,
    );
    fc.assert(
      fc.property(samples, (s) => {
        expect(isHlc(s)).toBe(HLC.test(s));
      }),
      {
        numRuns: 5000,
      },
    );
    expect(isHlc(null)).toBe(false);
  });

  it('hasLoneSurrogate (short strings take the loop, long ones the regex)', () => {
    const samples = fc.oneof(
      near('😀 pair'),
      near(`${'z'.repeat(60)}😀`),
      near('z'.repeat(70)),
      anyText,
    );
    fc.assert(
      fc.property(samples, (s) => {
        expect(hasLoneSurrogate(s)).toBe(LONE_SURROGATE.test(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('parseHlc reads the parts the regex captured', () => {
    const valid = fc
      .tuple(
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 256 }),
      )
      .map(([wall, counter, node]) => {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
        const clean = node.replace(/[\u0000-\u001f\u007f]/g, 'x');
        return `${wall.toString(16).padStart(12, '0')}:${counter.toString(16).padStart(4, '0')}:${clean}`;
      });
    fc.assert(
      fc.property(fc.oneof(valid, near('0190a1b2c3d4:00ff:node')), (s) => {
        const match = HLC.exec(s);
        if (match === null) {
          expect(() => parseHlc(s)).toThrow();
          return;
        }
        expect(parseHlc(s)).toEqual({
          wallTime: Number.parseInt(match[1] as string, 16),
          counter: Number.parseInt(match[2] as string, 16),
          nodeId: match[3],
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('record ids', () => {
    const old = (s: string) =>
      s.length >= 1 && s.length <= 256 && !CONTROL.test(s) && !LONE_SURROGATE.test(s);
    const samples = fc.oneof(near('item-42'), near('😀 emoji id'), anyText);
    fc.assert(
      fc.property(samples, (s) => {
        expect(isRecordId(s)).toBe(old(s));
      }),
      {
        numRuns: 5000,
      },
    );
  });

  it('data strings (short ones take the loop, long ones the regex)', () => {
    const old = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);
    const accepted = (s: string) => {
      try {
        validateRecordData({ value: s, [s]: 1 });
        return true;
      } catch {
        return false;
      }
    };
    const samples = fc.oneof(
      near('a title'),
      near('😀 with a pair'),
      near('x'.repeat(31)),
      near('y'.repeat(33)),
      anyText,
    );
    fc.assert(
      fc.property(samples, (s) => {
        expect(accepted(s)).toBe(old(s) && s !== '__proto__');
      }),
      { numRuns: 5000 },
    );
  });
});
