import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from '../../src/data/split.js';
import { MAX_HELD_OUT_FRACTION } from '../../src/model-spec/training-spec.schema.js';

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

  it('keeps a training example of every class of 10 or more while the held-out fractions stay below MAX_HELD_OUT_FRACTION', () => {
    // Why the limit is 0.9 and not 1: rounding per class can hold out a whole small class.
    const tens = Uint8Array.from({ length: 30 }, (_, i) => i % 3);
    expect(stratifiedSplit(tens, { validation: 0.45, test: 0.45 }, 1).train.length).toBe(0);
    const below = MAX_HELD_OUT_FRACTION - 1e-9;
    for (const perClass of [10, 11, 13, 19, 20, 37]) {
      for (const test of [0, 0.05, 0.15, 0.25, 0.35, 0.45, 0.5]) {
        const validation = Math.min(0.5, Math.max(0, below - test));
        const classLabels = Uint8Array.from({ length: perClass * 3 }, (_, i) => i % 3);
        const { train } = stratifiedSplit(classLabels, { validation, test }, 1);
        expect(new Set(Array.from(train, (i) => classLabels[i])).size, `${perClass} per class, ${validation} + ${test}`).toBe(3);
      }
    }
  });

  it('handles empty validation and test parts', () => {
    const { train, validation, test } = stratifiedSplit(labels, { validation: 0, test: 0 }, 1);
    expect([train.length, validation.length, test.length]).toEqual([1000, 0, 0]);
  });
});
