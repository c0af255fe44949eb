import * as tf from '@tensorflow/tfjs';
import type { LoadedDataset } from '../data/mnist.dataset.js';
import { normalizeInto, type Normalization } from '../data/normalization.js';

export interface Examples {
  xs: tf.Tensor;
  ys: tf.Tensor;
  n: number;
}

/**
 * The rows `indices` of a dataset, normalised, as tensors in the model's
 * input shape, with one-hot labels; registered in `owned` for disposal.
 */
export function gatherExamples(data: LoadedDataset, indices: Uint32Array, shape: number[], normalization: Normalization, owned: Examples[]): Examples {
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  indices.forEach((row, i) => {
    normalizeInto(data.x, row * size, size, x, i * size, normalization);
    labels[i] = data.y[row];
  });
  const examples = {
    xs: tf.tensor(x, [indices.length, ...shape]),
    ys: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), data.numClasses).toFloat()),
    n: indices.length,
  };
  owned.push(examples);
  return examples;
}
