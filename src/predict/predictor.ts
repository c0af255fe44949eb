import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../storage/model-artifacts.js';
import { instancesToBuffer } from './preprocess.js';

export interface Prediction {
  predictions: number[][];
  classes: number[];
}

/** Runs a loaded classifier on validated instances; logits are turned into probabilities. */
export async function predict(model: tf.LayersModel, instances: unknown[], pre: Preprocessing): Promise<Prediction> {
  const buffer = instancesToBuffer(instances, pre.inputShape, pre);
  const probs = tf.tidy(() => {
    const out = model.predict(tf.tensor(buffer, [instances.length, ...pre.inputShape])) as tf.Tensor;
    return pre.outputs === 'logits' ? tf.softmax(out) : out;
  });
  try {
    const rows = (await probs.array()) as number[][];
    return { predictions: rows, classes: rows.map((r) => r.indexOf(Math.max(...r))) };
  } finally {
    probs.dispose();
  }
}
