import { createRng, shuffleInPlace } from './random.js';

export interface SplitFractions {
  validation: number;
  test: number;
}

export interface Split {
  train: Uint32Array;
  validation: Uint32Array;
  test: Uint32Array;
}

/**
 * Seeded, stratified split of example indices: each class is shuffled and cut
 * in the same proportions, so small datasets keep every class in every part.
 * Same labels + fractions + seed always give the same split.
 */
export function stratifiedSplit(labels: ArrayLike<number>, fractions: SplitFractions, seed: number): Split {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]);
    if (list) list.push(i);
    else byClass.set(labels[i], [i]);
  }
  const rng = createRng(seed);
  const parts = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const indices = byClass.get(cls)!;
    shuffleInPlace(indices, rng);
    const nTest = Math.round(indices.length * fractions.test);
    const nVal = Math.round(indices.length * fractions.validation);
    parts.test.push(...indices.slice(0, nTest));
    parts.validation.push(...indices.slice(nTest, nTest + nVal));
    parts.train.push(...indices.slice(nTest + nVal));
  }
  // Interleave classes so that batches are mixed.
  const out = {} as Split;
  for (const key of ['train', 'validation', 'test'] as const) {
    const arr = Uint32Array.from(parts[key]);
    shuffleInPlace(arr, rng);
    out[key] = arr;
  }
  return out;
}
