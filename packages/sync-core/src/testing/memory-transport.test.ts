import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wireCopy } from './memory-transport.js';

const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('wireCopy', () => {
  it('equals the JSON round trip for any JSON value, and shares no object with the input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = wireCopy(value);
        expect(copy).toStrictEqual(viaJson(value));
        if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it('falls back to the JSON round trip for what JSON changes', () => {
    const date = new Date(0);
    const cases: unknown[] = [
      { a: undefined, b: 1 },
      { at: date },
      { n: Number.NaN, i: Number.POSITIVE_INFINITY },
      { z: -0 },
      JSON.parse('{"__proto__": {"x": 1}, "y": 2}'),
      { nested: [{ toJSON: () => 'custom' }] },
      [undefined, () => 1],
      Object.assign(Object.create(null), { k: 'v' }),
    ];
    for (const value of cases) expect(wireCopy(value)).toStrictEqual(viaJson(value));
    const polluted = wireCopy(JSON.parse('{"__proto__": {"x": 1}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(polluted)).toBe(Object.prototype);
    expect(Object.hasOwn(polluted, '__proto__')).toBe(true);
  });

  it('copies deeply: later changes of the input never show in the copy', () => {
    const input = { mutations: [{ data: { list: [1] } }] };
    const copy = wireCopy(input);
    input.mutations[0]!.data.list.push(2);
    expect(copy.mutations[0]!.data.list).toEqual([1]);
  });
});
