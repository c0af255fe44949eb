import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createRng, shuffleInPlace } from './random.js';
import { MNIST } from './builtin-datasets.js';

export interface LoadedDataset {
  /** Row-major examples, `count * prod(inputShape)` values. */
  x: Float32Array;
  /** Class index per example. */
  y: Uint8Array | Uint16Array;
  count: number;
  inputShape: number[];
  numClasses: number;
}

const PIXELS = 28 * 28;
// Fixed, not the job's seed: `limit: N` must mean the same N digits for every job.
const CANONICAL_ORDER_SEED = 20_170_101;

let cached: Promise<LoadedDataset> | null = null;

async function readDigits(): Promise<LoadedDataset> {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const perClass = await Promise.all(
    MNIST.classNames.map(async (_, digit) => {
      const { data } = JSON.parse(await readFile(path.join(dir, `${digit}.json`), 'utf8')) as { data: number[] };
      if (data.length % PIXELS !== 0) throw new Error(`mnist digit file ${digit}.json has ${data.length} values, not a multiple of ${PIXELS}`);
      return data;
    }),
  );
  const count = perClass.reduce((n, d) => n + d.length / PIXELS, 0);
  const refs: [number, number][] = [];
  perClass.forEach((d, digit) => {
    for (let i = 0; i < d.length / PIXELS; i++) refs.push([digit, i]);
  });
  // The package stores digits grouped by class; a fixed shuffle makes any prefix class-balanced.
  shuffleInPlace(refs, createRng(CANONICAL_ORDER_SEED));
  const x = new Float32Array(count * PIXELS);
  const y = new Uint8Array(count);
  refs.forEach(([digit, i], row) => {
    x.set(perClass[digit].slice(i * PIXELS, (i + 1) * PIXELS), row * PIXELS);
    y[row] = digit;
  });
  return { x, y, count, inputShape: MNIST.inputShape, numClasses: MNIST.numClasses };
}

/** The built-in MNIST digits in their canonical order, optionally the first `limit`. Parsed once per process. */
export async function loadMnist(limit?: number): Promise<LoadedDataset> {
  cached ??= readDigits().catch((err) => {
    cached = null;
    throw err;
  });
  const all = await cached;
  if (limit === undefined || limit >= all.count) return all;
  return {
    ...all,
    x: all.x.subarray(0, limit * PIXELS),
    y: all.y.subarray(0, limit),
    count: limit,
  };
}
