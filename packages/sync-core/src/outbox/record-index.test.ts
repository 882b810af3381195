import { describe, expect, it } from 'vitest';
import { RecordIndex } from './record-index.js';

describe('RecordIndex', () => {
  it('keeps values per collection and id, across switches between collections', () => {
    const index = new RecordIndex<number>();
    index.set('a', '1', 1);
    index.set('b', '1', 2);
    index.set('a', '2', 3);
    expect(index.get('a', '1')).toBe(1);
    expect(index.get('b', '1')).toBe(2);
    expect(index.get('a', '2')).toBe(3);
    expect(index.get('b', '2')).toBeUndefined();
  });

  it('forgets a collection whose last record left, and starts it afresh when set again', () => {
    const index = new RecordIndex<number>();
    index.set('a', '1', 1);
    expect(index.get('a', '1')).toBe(1); // 'a' is now the remembered collection
    index.delete('a', '1');
    expect(index.get('a', '1')).toBeUndefined();
    index.set('a', '2', 2);
    expect(index.get('a', '2')).toBe(2);
    expect(index.get('a', '1')).toBeUndefined();
  });
});
