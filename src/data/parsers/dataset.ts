import { Type, type Static } from 'typebox';
import { DatasetFormatError } from './dataset-format.error.js';
import { fmt, shapeText } from './format.js';

/** Summary of the values, for previews and for choosing a normalisation; stored with an upload (`datasets.stats`). */
export const DatasetStatsSchema = Type.Object({
  /** Examples per class index; a class with no example counts 0. */
  perClassCounts: Type.Array(Type.Integer()),
  min: Type.Number(),
  max: Type.Number(),
  /**
   * Per channel: the last axis of `inputShape`, i.e. the colour channel of an
   * image, or each feature of a tabular dataset.
   */
  mean: Type.Array(Type.Number()),
  /** Population standard deviation per channel, same axis as `mean`. */
  std: Type.Array(Type.Number()),
});
export type DatasetStats = Static<typeof DatasetStatsSchema>;

/** Raw values, row-major, `count * prod(inputShape)` of them. */
export type DatasetValues = { dtype: 'uint8'; x: Uint8Array } | { dtype: 'float32'; x: Float32Array };

export type ClassIndices = Uint8Array | Uint16Array;

export type ParsedDataset = DatasetValues & {
  /** Class index per example: Uint8Array up to 256 classes, Uint16Array above. */
  y: ClassIndices;
  count: number;
  /** Shape of one example, without the batch dimension. */
  inputShape: number[];
  numClasses: number;
  /** Name of each class index; `classNames.length === numClasses`. */
  classNames: string[];
  stats: DatasetStats;
};

/** Size caps every parser applies before (or while) allocating the result. */
export interface ParseLimits {
  /** Most examples accepted. Default 1,000,000. */
  maxExamples?: number;
  /** Most input values in total (examples x values per example). Default 100,000,000, i.e. 400 MB as float32. */
  maxValues?: number;
  /** Most classes. Default 1,000; never above 65,536 (class indices are 16-bit at most). */
  maxClasses?: number;
  /**
   * Most values along the last axis of one example: the feature columns of a
   * table (CSV, `(n, features)` arrays) or the channels of an image. Stats hold
   * a mean and std per such value, and a wide table with few rows passes
   * `maxValues` easily, so this is checked from the header, before any data is
   * read. Default 65,536.
   */
  maxFeatures?: number;
}

export const DEFAULT_LIMITS: Required<ParseLimits> = {
  maxExamples: 1_000_000,
  maxValues: 100_000_000,
  maxClasses: 1_000,
  maxFeatures: 65_536,
};

export function resolveLimits(limits: ParseLimits): Required<ParseLimits> {
  return {
    maxExamples: limits.maxExamples ?? DEFAULT_LIMITS.maxExamples,
    maxValues: limits.maxValues ?? DEFAULT_LIMITS.maxValues,
    maxClasses: Math.min(limits.maxClasses ?? DEFAULT_LIMITS.maxClasses, 65_536),
    maxFeatures: limits.maxFeatures ?? DEFAULT_LIMITS.maxFeatures,
  };
}

/** `subject` names the file as the user knows it: `images file`, `x.npy`, `the archive`. */
export function assertExampleLimit(field: string, subject: string, count: number, limits: Required<ParseLimits>): void {
  if (count > limits.maxExamples) {
    throw new DatasetFormatError(field, `${subject} has ${fmt(count)} examples; at most ${fmt(limits.maxExamples)} are allowed`);
  }
}

export function assertValueLimit(field: string, count: number, inputShape: readonly number[], limits: Required<ParseLimits>): void {
  const total = count * product(inputShape);
  if (total > limits.maxValues) {
    throw new DatasetFormatError(
      field,
      `the dataset would hold ${fmt(total)} values (${fmt(count)} examples of ${shapeText(inputShape)}); at most ${fmt(limits.maxValues)} are allowed`,
    );
  }
}

/**
 * For arrays whose shape comes from a header (IDX, .npy): the last axis of one
 * example is its features (`[features]`) or its channels (`[h, w, c]`).
 */
export function assertFeatureLimit(field: string, subject: string, inputShape: readonly number[], limits: Required<ParseLimits>): void {
  const last = inputShape[inputShape.length - 1];
  if (last > limits.maxFeatures) {
    const what = inputShape.length === 1 ? 'features' : `channels (examples of ${shapeText(inputShape)})`;
    throw new DatasetFormatError(field, `${subject} has ${fmt(last)} ${what}; at most ${fmt(limits.maxFeatures)} are allowed`);
  }
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function classIndexArray(numClasses: number, count: number): ClassIndices {
  return numClasses <= 256 ? new Uint8Array(count) : new Uint16Array(count);
}

/**
 * Integer labels taken at face value (IDX, .npy): class `k` is label `k`, so
 * `numClasses = max + 1` and a gap is a class with no examples rather than a
 * renumbering that would silently change what the user's labels mean.
 */
export function classesFromIntegers(
  field: string,
  subject: string,
  labels: ArrayLike<number>,
  limits: Required<ParseLimits>,
): { y: ClassIndices; numClasses: number; classNames: string[] } {
  let max = 0;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0) {
      throw new DatasetFormatError(field, `${subject} has ${fmt(v)} at index ${fmt(i)}; class labels must be whole numbers from 0`);
    }
    if (v > max) max = v;
  }
  const numClasses = max + 1;
  if (numClasses > limits.maxClasses) {
    throw new DatasetFormatError(
      field,
      `${subject} has values up to ${fmt(max)} but at most ${fmt(limits.maxClasses)} classes are allowed (labels 0 to ${fmt(limits.maxClasses - 1)})`,
    );
  }
  const y = classIndexArray(numClasses, labels.length);
  for (let i = 0; i < labels.length; i++) y[i] = labels[i];
  const classNames = Array.from({ length: numClasses }, (_, k) => String(k));
  assertTwoClasses(field, subject, y, classNames);
  return { y, numClasses, classNames };
}

/** A decimal number as people write them in CSV cells and labels (no hex, no `Infinity`). */
export const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Classes from label strings (CSV cells, string arrays): `labels[id]` is the
 * text of label id `id`, `ids` the label id of each example. When every label
 * is a number, classes are the distinct values in numeric order (labels 0..K-1
 * keep their meaning; `1` and `1.0` are one class); otherwise the distinct
 * strings in {@link compareClassNames} order. Either way the result does not
 * depend on which example comes first.
 */
export function classesFromLabels(labels: readonly string[], ids: ArrayLike<number>): { y: ClassIndices; numClasses: number; classNames: string[] } {
  const numeric = labels.every((l) => NUMBER.test(l));
  const keyOf = numeric ? (l: string) => String(Number(l)) : (l: string) => l;
  const classNames = [...new Set(labels.map(keyOf))];
  if (numeric) classNames.sort((a, b) => Number(a) - Number(b));
  else classNames.sort(compareClassNames);
  const classIndex = new Map(classNames.map((name, i) => [name, i]));
  const finalOf = labels.map((l) => classIndex.get(keyOf(l))!);
  const y = classIndexArray(classNames.length, ids.length);
  for (let i = 0; i < ids.length; i++) y[i] = finalOf[ids[i]];
  return { y, numClasses: classNames.length, classNames };
}

/** A classifier needs at least two classes that actually occur. */
export function assertTwoClasses(field: string, subject: string, y: ClassIndices, classNames: readonly string[]): void {
  const seen = new Set<number>();
  for (let i = 0; i < y.length && seen.size < 2; i++) seen.add(y[i]);
  if (seen.size < 2) {
    const only = seen.size === 0 ? '' : ` (${classNames[[...seen][0]]})`;
    throw new DatasetFormatError(field, `${subject} has ${seen.size} class${only}; at least 2 are needed`);
  }
}

/** NaN or Infinity would poison every gradient; say where the first one is. */
export function assertFinite(field: string, subject: string, x: Float32Array, valuesPerExample: number): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new DatasetFormatError(field, `${subject} has a non-finite value (${x[i]}) in example ${fmt(Math.floor(i / valuesPerExample))}`);
    }
  }
}

/**
 * Deterministic class order: whole numbers numerically (so folders `2` and
 * `10` become classes 2 and 10 in that order), then everything else by code
 * unit, which unlike `localeCompare` does not depend on the server's ICU data.
 */
export function compareClassNames(a: string, b: string): number {
  const ai = /^\d+$/.test(a);
  const bi = /^\d+$/.test(b);
  if (ai && bi) {
    const d = Number(a) - Number(b);
    if (d !== 0) return d;
  } else if (ai !== bi) {
    return ai ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stats over all examples; the channel of a value is its index modulo the last axis of `inputShape`. */
export function computeStats(x: Float32Array | Uint8Array, y: ArrayLike<number>, inputShape: readonly number[], numClasses: number): DatasetStats {
  const perClassCounts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < y.length; i++) perClassCounts[y[i]]++;

  const channels = inputShape.length === 0 ? 1 : inputShape[inputShape.length - 1];
  const n = x.length / channels;
  if (x.length === 0) {
    return { perClassCounts, min: 0, max: 0, mean: new Array(channels).fill(0), std: new Array(channels).fill(0) };
  }
  // Sums are taken around the first value of each channel: with raw sums of
  // squares, float data far from 0 (timestamps, 1e6-scale features) would
  // cancel to a negative variance.
  const shift = Array.from({ length: channels }, (_, c) => x[c]);
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const v = x[i + c];
      if (v < min) min = v;
      if (v > max) max = v;
      const d = v - shift[c];
      sum[c] += d;
      sumSq[c] += d * d;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const m = sum[c] / n;
    mean.push(shift[c] + m);
    std.push(Math.sqrt(Math.max(0, sumSq[c] / n - m * m)));
  }
  return { perClassCounts, min, max, mean, std };
}

export function assembleDataset(values: DatasetValues, classes: { y: ClassIndices; numClasses: number; classNames: string[] }, inputShape: number[]): ParsedDataset {
  const { y, numClasses, classNames } = classes;
  return {
    ...values,
    y,
    count: y.length,
    inputShape,
    numClasses,
    classNames,
    stats: computeStats(values.x, y, inputShape, numClasses),
  };
}
