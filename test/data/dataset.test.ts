import { describe, expect, it } from 'vitest';
import { compareClassNames, computeStats } from '../../src/data/parsers/dataset.js';
import { DatasetFormatError } from '../../src/data/parsers/dataset-format.error.js';
import { fmt } from '../../src/data/parsers/format.js';

describe('computeStats', () => {
  it('gives per-class counts, range, and per-channel mean and population std', () => {
    // Two 1x2 RGB examples: channel values r = [1, 3, 5, 7], g = [0, 0, 0, 0], b = [2, 4, 6, 8].
    const x = Float32Array.of(1, 0, 2, 3, 0, 4, 5, 0, 6, 7, 0, 8);
    const stats = computeStats(x, Uint8Array.of(2, 0), [1, 2, 3], 4);
    expect(stats.perClassCounts).toEqual([1, 0, 1, 0]);
    expect([stats.min, stats.max]).toEqual([0, 8]);
    expect(stats.mean).toEqual([4, 0, 5]);
    expect(stats.std.map((s) => Math.round(s ** 2 * 1e9) / 1e9)).toEqual([5, 0, 5]);
  });

  it('treats each feature of a flat input as its own channel', () => {
    const stats = computeStats(Uint8Array.of(0, 10, 255, 30), Uint8Array.of(0, 1), [2], 2);
    expect(stats.mean).toEqual([127.5, 20]);
    expect(stats.std).toEqual([127.5, 10]);
  });

  it('stays accurate for values far from zero', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => 1e6 + (i % 2));
    const stats = computeStats(x, new Uint8Array(1000), [1], 1);
    expect(stats.mean[0]).toBeCloseTo(1e6 + 0.5, 6);
    expect(stats.std[0]).toBeCloseTo(0.5, 6);
  });

  it('handles an empty dataset', () => {
    expect(computeStats(new Float32Array(0), new Uint8Array(0), [2], 2)).toEqual({ perClassCounts: [0, 0], min: 0, max: 0, mean: [0, 0], std: [0, 0] });
  });
});

describe('compareClassNames', () => {
  it('sorts whole numbers numerically, before other names, which sort by code unit', () => {
    expect(['b', '10', 'B', '2', 'a10', 'a2', '01', '1'].sort(compareClassNames)).toEqual(['01', '1', '2', '10', 'B', 'a10', 'a2', 'b']);
  });
});

describe('DatasetFormatError', () => {
  it('carries a stable code, the field at fault and its own name', () => {
    const err = new DatasetFormatError('labels', 'labels file must have 1 dimension, got 3');
    expect(err).toBeInstanceOf(DatasetFormatError);
    expect(err).toBeInstanceOf(Error);
    expect({ name: err.name, code: err.code, field: err.field, statusCode: err.statusCode, message: err.message }).toEqual({
      name: 'DatasetFormatError',
      code: 'invalid-dataset',
      field: 'labels',
      statusCode: 400,
      message: 'labels file must have 1 dimension, got 3',
    });
  });
});

describe('fmt', () => {
  it('uses thousands separators whatever the server locale', () => {
    expect(fmt(7_840_016)).toBe('7,840,016');
    expect(fmt(12)).toBe('12');
  });
});
