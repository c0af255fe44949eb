import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from '../../src/data/split.js';

const labels = Uint8Array.from({ length: 1000 }, (_, i) => i % 10);

describe('stratifiedSplit', () => {
  it('is reproducible from the seed and changes with it', () => {
    const a = stratifiedSplit(labels, { validation: 0.1, test: 0.2 }, 7);
    const b = stratifiedSplit(labels, { validation: 0.1, test: 0.2 }, 7);
    const c = stratifiedSplit(labels, { validation: 0.1, test: 0.2 }, 8);
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(a.test)).toEqual(Array.from(b.test));
    expect(Array.from(a.test)).not.toEqual(Array.from(c.test));
  });

  it('uses every example exactly once, in the requested proportions per class', () => {
    const { train, validation, test } = stratifiedSplit(labels, { validation: 0.1, test: 0.2 }, 1);
    expect(train.length + validation.length + test.length).toBe(1000);
    expect(new Set([...train, ...validation, ...test]).size).toBe(1000);
    for (let cls = 0; cls < 10; cls++) {
      expect(Array.from(test).filter((i) => labels[i] === cls)).toHaveLength(20);
      expect(Array.from(validation).filter((i) => labels[i] === cls)).toHaveLength(10);
    }
  });

  it('handles empty validation and test parts', () => {
    const { train, validation, test } = stratifiedSplit(labels, { validation: 0, test: 0 }, 1);
    expect([train.length, validation.length, test.length]).toEqual([1000, 0, 0]);
  });
});
