import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../store/freeze.js';
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

  it('copies a deep-frozen part too: the request never shares an object with the sender', () => {
    const mutation = deepFreeze({ id: 'm1', op: 'put', data: { tags: ['a'], n: 1 }, hlc: 'h' });
    const input = { clientId: 'c', mutations: [mutation] };
    const copy = wireCopy(input);
    expect(copy).toStrictEqual(viaJson(input));
    expect(copy.mutations[0]).not.toBe(mutation);
    expect(copy.mutations[0]?.data).not.toBe(mutation.data);
  });

  it('copies a frozen part that JSON would change or that holds something unfrozen', () => {
    const hole = new Array(2);
    hole[1] = 'x';
    const cases: object[] = [
      { z: -0 },
      { a: undefined, b: 1 },
      { inner: { unfrozen: true } },
      [1, { unfrozen: true }],
      hole,
      { n: Number.NaN },
      { custom: 1, toJSON: () => 'custom' },
      Object.defineProperty({ hidden: 1 }, 'toJSON', { value: () => 'hidden', enumerable: false }),
      Object.assign(Object.create(null), { k: 'v' }),
    ];
    for (const value of cases) {
      const frozen = Object.freeze(value);
      const copy = wireCopy(frozen);
      expect(copy).toStrictEqual(viaJson(frozen));
      expect(copy).not.toBe(frozen);
    }
  });

  it('equals the JSON round trip for any deep-frozen JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(wireCopy(deepFreeze(value))).toStrictEqual(viaJson(value));
      }),
      { numRuns: 300 },
    );
  });
});
