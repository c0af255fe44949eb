import { describe, expect, it } from 'vitest';
import { instancesToBuffer, InstanceError } from '../../src/predict/preprocess.js';

const nested = (h: number, w: number, c: number, v = 0.5) => Array.from({ length: h }, () => Array.from({ length: w }, () => Array(c).fill(v)));

describe('instancesToBuffer', () => {
  it('accepts nested and flat instances of the input shape', () => {
    const buf = instancesToBuffer([nested(2, 3, 1, 0.25), [1, 2, 3, 4, 5, 6]], [2, 3, 1]);
    expect(Array.from(buf)).toEqual([0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 1, 2, 3, 4, 5, 6]);
  });

  it('accepts flat vectors for flat models', () => {
    expect(Array.from(instancesToBuffer([[1, 2, 3]], [3]))).toEqual([1, 2, 3]);
  });

  it.each([
    [[[1, 2, 3]], [2, 3, 1], 'instances[0]', /must have the input shape \[2, 3, 1\] or be a flat list of 6 numbers, got a list of 3/],
    [[nested(2, 2, 1)], [2, 3, 1], 'instances[0][0]', /must be a list of 3 \(input shape \[2, 3, 1\]\), got a list of 2/],
    [[[1, 2, 'x', 4, 5, 6]], [2, 3, 1], 'instances[0][2]', /must be a finite number, got the string "x"/],
    [[[1, 2, null, 4, 5, 6]], [2, 3, 1], 'instances[0][2]', /got null/],
    [[7], [2, 3, 1], 'instances[0]', /must be a list in the input shape/],
    [[[1, 2]], [3], 'instances[0]', /must have the input shape \[3\]/],
  ])('rejects %j for shape %j at %s', (instances, shape, field, message) => {
    try {
      instancesToBuffer(instances as unknown[], shape as number[]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InstanceError);
      expect((err as InstanceError).field).toBe(field);
      expect((err as Error).message).toMatch(message);
    }
  });
});
