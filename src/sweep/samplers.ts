import { createRng } from '../data/random.js';
import type { Distribution, SweepDimension } from '../queue/sweep-document.js';
import { discreteCount, discreteValueAt, paramsAt, productSize, type TrialParams } from './space.js';

/**
 * Seeded sampling. Trial `i` of a sweep draws from a generator of its own,
 * seeded from the sweep's seed and `i`, so its random parameters do not
 * depend on when, or after which other trials, it was created.
 */

/** FNV-1a of the text: a 32-bit seed from several numbers. */
function hashSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join(':')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The generator of trial `index` of a sweep seeded with `seed`; `purpose` separates independent streams of one trial. */
export function trialRng(seed: number, index: number, purpose = 'sample'): () => number {
  return createRng(hashSeed(seed, index, purpose));
}

/** Six significant digits: a learning rate of 0.00316228 reads better than 0.0031622776601683794, and changes nothing that matters. */
export function roundSample(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, Number(x.toPrecision(6))));
}

/** One value of `d`, uniformly (log-uniformly for logUniform). */
export function sampleValue(d: Distribution, rng: () => number): unknown {
  if (d.uniform) {
    const [low, high] = d.uniform;
    return roundSample(low + rng() * (high - low), low, high);
  }
  if (d.logUniform) {
    const [low, high] = d.logUniform;
    return roundSample(Math.exp(Math.log(low) + rng() * (Math.log(high) - Math.log(low))), low, high);
  }
  if (d.intUniform) {
    const [low, high] = d.intUniform;
    return Math.min(high, low + Math.floor(rng() * (high - low + 1)));
  }
  const values = d.values!;
  return values[Math.min(values.length - 1, Math.floor(rng() * values.length))];
}

/** Random search's trial `index`: each dimension drawn independently, in the space's order. */
export function randomParams(space: SweepDimension[], seed: number, index: number): TrialParams {
  const rng = trialRng(seed, index);
  return Object.fromEntries(space.map((dim) => [dim.path, sampleValue(dim.distribution, rng)]));
}

/** Points of a grid over discrete dimensions (uniform/logUniform have none: Infinity). */
export function gridSize(space: SweepDimension[]): number {
  return productSize(space.map((dim) => discreteCount(dim.distribution) ?? Number.POSITIVE_INFINITY));
}

/** Grid search's trial `index`: the product of the dimensions' values, the last dimension varying fastest. */
export function gridParams(space: SweepDimension[], index: number): TrialParams {
  return paramsAt(
    space,
    space.map((dim) => discreteCount(dim.distribution)!),
    (d, k) => discreteValueAt(space[d].distribution, k),
    index,
  );
}
