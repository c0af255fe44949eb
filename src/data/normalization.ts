import type { DatasetStats } from './parsers/index.js';

export const NORMALIZATIONS = ['scale', 'standardize', 'none'] as const;
export type NormalizationKind = (typeof NORMALIZATIONS)[number];

/**
 * value' = (value - offset[c]) * scale[c], with c the channel (last axis).
 * Computed once from the dataset's statistics at training time and saved
 * with the model, so predict transforms raw inputs exactly as training did.
 */
export interface Normalization {
  kind: NormalizationKind;
  offset: number[];
  scale: number[];
}

export function normalizationFor(kind: NormalizationKind, stats: Pick<DatasetStats, 'min' | 'max' | 'mean' | 'std'>, channels: number): Normalization {
  switch (kind) {
    case 'none':
      return { kind, offset: Array(channels).fill(0), scale: Array(channels).fill(1) };
    case 'scale': {
      // One range for all channels keeps colours comparable; a constant dataset is left as is.
      const span = stats.max - stats.min;
      return { kind, offset: Array(channels).fill(stats.min), scale: Array(channels).fill(span > 0 ? 1 / span : 1) };
    }
    case 'standardize':
      return {
        kind,
        offset: Array.from({ length: channels }, (_, c) => stats.mean[c] ?? 0),
        scale: Array.from({ length: channels }, (_, c) => (stats.std[c] > 0 ? 1 / stats.std[c] : 1)),
      };
  }
}

export function isIdentity(n: Normalization): boolean {
  return n.offset.every((o) => o === 0) && n.scale.every((s) => s === 1);
}

/** Writes normalised `src[from .. from+length)` into `dst` at `at`. */
export function normalizeInto(src: ArrayLike<number>, from: number, length: number, dst: Float32Array, at: number, n: Normalization): void {
  const channels = n.offset.length;
  for (let i = 0; i < length; i++) {
    const c = i % channels;
    dst[at + i] = (src[from + i] - n.offset[c]) * n.scale[c];
  }
}
