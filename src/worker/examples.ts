import * as tf from '@tensorflow/tfjs';
import type { LoadedDataset } from '../data/load-dataset.js';

export interface Examples {
  xs: tf.Tensor;
  ys: tf.Tensor;
  n: number;
}

/** The rows `indices` of a dataset as tensors in the model's input shape, one-hot labels; registered in `owned` for disposal. */
export function gatherExamples(data: LoadedDataset, indices: Uint32Array, shape: number[], owned: Examples[]): Examples {
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  indices.forEach((row, i) => {
    x.set(data.x.subarray(row * size, (row + 1) * size), i * size);
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
