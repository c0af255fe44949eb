import * as tf from '@tensorflow/tfjs';
import { isIdentityAugmentation, randomSourceMap, warpImage, type ImageGeometry } from '../data/augmentation.js';
import { createRng, shuffleInPlace } from '../data/random.js';
import type { NormalizedAugmentation } from '../model-spec/augmentation.schema.js';
import type { ExampleArrays } from './examples.js';

export interface BatchOptions {
  batchSize: number;
  /** The job's seed: with the epoch, it decides the order of the examples and each image's random change. */
  seed: number;
  /** Augmentation of an image dataset, and the images' geometry; absent or all zero: the examples as they are. */
  augmentation?: { settings: NormalizedAugmentation; image: ImageGeometry };
}

/** One batch as arrays: `size` examples of the set's `size` values each, and their labels. */
export interface BatchArrays {
  x: Float32Array;
  labels: Int32Array;
  size: number;
}

/** Independent random streams of one epoch. */
const SHUFFLE_STREAM = 1;
const AUGMENT_STREAM = 2;

/**
 * A 32-bit seed for one random stream of one epoch, from the job's seed:
 * every epoch gets its own order and its own image changes, and an epoch
 * replayed after a resume gets the same ones.
 */
export function epochSeed(seed: number, epoch: number, stream: number): number {
  let h = (seed ^ Math.imul(epoch, 0x9e3779b1) ^ Math.imul(stream, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The batches of epoch `epoch` (1-based): the examples in an order shuffled
 * from (seed, epoch), each copied, or resampled through a random change when
 * augmentation is on, into a fresh array per batch. Labels are never changed.
 */
export function* epochBatchArrays(set: ExampleArrays, options: BatchOptions, epoch: number): Generator<BatchArrays> {
  const order = new Uint32Array(set.n);
  for (let i = 0; i < set.n; i++) order[i] = i;
  shuffleInPlace(order, createRng(epochSeed(options.seed, epoch, SHUFFLE_STREAM)));
  const augmentation = options.augmentation && !isIdentityAugmentation(options.augmentation.settings) ? options.augmentation : undefined;
  const rng = createRng(epochSeed(options.seed, epoch, AUGMENT_STREAM));
  for (let start = 0; start < set.n; start += options.batchSize) {
    const size = Math.min(options.batchSize, set.n - start);
    // A new array per batch: a backend may keep the array it was given as the tensor's memory (cpu does).
    const x = new Float32Array(size * set.size);
    const labels = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const row = order[start + i];
      labels[i] = set.labels[row];
      if (augmentation) warpImage(set.x, row * set.size, x, i * set.size, augmentation.image, randomSourceMap(augmentation.settings, augmentation.image, rng));
      else x.set(set.x.subarray(row * set.size, (row + 1) * set.size), i * set.size);
    }
    yield { x, labels, size };
  }
}

/** The same batches as tensors, the inputs in `inputShape` (the model's) and the labels one-hot, for `fitDataset`. */
export function* epochBatches(set: ExampleArrays, options: BatchOptions, epoch: number, inputShape: number[], numClasses: number): Generator<{ xs: tf.Tensor; ys: tf.Tensor }> {
  for (const batch of epochBatchArrays(set, options, epoch)) {
    const ys = new Float32Array(batch.size * numClasses);
    for (let i = 0; i < batch.size; i++) ys[i * numClasses + batch.labels[i]] = 1;
    yield { xs: tf.tensor(batch.x, [batch.size, ...inputShape]), ys: tf.tensor2d(ys, [batch.size, numClasses]) };
  }
}
