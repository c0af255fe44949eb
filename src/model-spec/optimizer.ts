import * as tfjs from '@tensorflow/tfjs';
import type { NormalizedTrainingSpec } from './training-spec.schema.js';

/**
 * Only `tf.train` is needed, so a caller can pass whichever tfjs flavour it
 * loaded (@tensorflow/tfjs or @tensorflow/tfjs-node) without a cast.
 */
export type TfTrainApi = Pick<typeof tfjs, 'train'>;

export type OptimizerSettings = Pick<NormalizedTrainingSpec, 'optimizer' | 'learningRate' | 'momentum'>;

/** Creates the tfjs optimizer a normalized training spec asks for, from `tf.train`. */
export function buildOptimizer(tf: TfTrainApi, training: OptimizerSettings): tfjs.Optimizer;
/** Same, using the @tensorflow/tfjs this module imports. */
export function buildOptimizer(training: OptimizerSettings): tfjs.Optimizer;
export function buildOptimizer(tfOrTraining: TfTrainApi | OptimizerSettings, maybeTraining?: OptimizerSettings): tfjs.Optimizer {
  const tf = maybeTraining === undefined ? tfjs : (tfOrTraining as TfTrainApi);
  const training = maybeTraining ?? (tfOrTraining as OptimizerSettings);
  const { learningRate } = training;
  switch (training.optimizer) {
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'momentum':
      return tf.train.momentum(learningRate, training.momentum);
    case 'adam':
      return tf.train.adam(learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate);
  }
}
