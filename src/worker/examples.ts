import * as tf from '@tensorflow/tfjs';
import type { LoadedDataset } from '../data/mnist.dataset.js';
import { normalizeInto, type Normalization } from '../data/normalization.js';

export interface Examples {
  xs: tf.Tensor;
  ys: tf.Tensor;
  n: number;
}

/** Examples kept as arrays, not tensors: the training set, from which each batch is cut (and augmented) as it is needed. */
export interface ExampleArrays {
  /** `n` examples of `size` normalised values each, one after the other. */
  x: Float32Array;
  labels: Int32Array;
  n: number;
  size: number;
}

/** The rows `indices` of a dataset, normalised, as arrays. */
export function gatherExampleArrays(data: LoadedDataset, indices: Uint32Array, shape: number[], normalization: Normalization): ExampleArrays {
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  indices.forEach((row, i) => {
    normalizeInto(data.x, row * size, size, x, i * size, normalization);
    labels[i] = data.y[row];
  });
  return { x, labels, n: indices.length, size };
}

/**
 * The rows `indices` of a dataset, normalised, as tensors in the model's
 * input shape, with one-hot labels; registered in `owned` for disposal.
 */
export function gatherExamples(data: LoadedDataset, indices: Uint32Array, shape: number[], normalization: Normalization, owned: Examples[]): Examples {
  const { x, labels, n } = gatherExampleArrays(data, indices, shape, normalization);
  const examples = {
    xs: tf.tensor(x, [n, ...shape]),
    ys: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), data.numClasses).toFloat()),
    n,
  };
  owned.push(examples);
  return examples;
}
