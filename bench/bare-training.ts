/**
 * The baseline the service is measured against: the same training a job
 * does, written as a user would with tfjs alone — load the digits, split
 * them, buildModel + fit + evaluate — with the trainer's own data, split,
 * model and optimizer functions so that only the service around it differs.
 */
import * as tf from '@tensorflow/tfjs';
import { builtinDataset } from '../src/data/datasets.js';
import { loadMnist } from '../src/data/mnist.dataset.js';
import { normalizationFor } from '../src/data/normalization.js';
import { computeStats } from '../src/data/parsers/index.js';
import { stratifiedSplit } from '../src/data/split.js';
import { buildModel, buildOptimizer, normalizeTrainingSpec, type ModelSpec, type TrainingSpec } from '../src/model-spec/index.js';
import { gatherExamples, type Examples } from '../src/worker/examples.js';

export interface BareTrainingOptions {
  model: ModelSpec;
  training: TrainingSpec;
  /** The built-in MNIST digits, the first `limit` of them. */
  dataset: { id: 'mnist'; limit?: number };
}

/** Reads (and, the first time in a process, parses) the digits, as the trainer's dataset loader does for MNIST. */
export const loadBareDataset = (dataset: BareTrainingOptions['dataset']) => loadMnist(dataset.limit);

export interface EpochTiming {
  epoch: number;
  /** Date.now() at the epoch's start and end, comparable across processes. */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** Training examples per second of the epoch, validation included in its time (as the trainer counts it). */
  samplesPerSec: number;
}

export interface BareTrainingResult {
  trainExamples: number;
  validationExamples: number;
  testExamples: number;
  /** Reading the dataset (parsing it when this process has not yet), splitting, making tensors. */
  dataMs: number;
  buildMs: number;
  fitMs: number;
  evaluateMs: number;
  totalMs: number;
  epochs: EpochTiming[];
  testAccuracy: number | null;
  /** CPU time of this process during the run. */
  cpuMs: number;
}

export async function trainBare(options: BareTrainingOptions): Promise<BareTrainingResult> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const training = normalizeTrainingSpec(options.training, options.model);
  const data = await loadBareDataset(options.dataset);
  const info = builtinDataset(options.dataset.id)!;
  const stats = info.stats ?? computeStats(data.x, data.y, info.inputShape, info.numClasses);
  const normalization = normalizationFor(training.normalization, stats, info.inputShape[info.inputShape.length - 1]);
  const split = stratifiedSplit(data.y, { validation: training.validationSplit, test: training.testSplit }, training.seed);
  const inputShape = [...options.model.input.shape];
  const sets: Examples[] = [];
  let model: tf.LayersModel | null = null;
  let optimizer: tf.Optimizer | null = null;
  try {
    const train = gatherExamples(data, split.train, inputShape, normalization, sets);
    const validation = split.validation.length ? gatherExamples(data, split.validation, inputShape, normalization, sets) : null;
    const test = split.test.length ? gatherExamples(data, split.test, inputShape, normalization, sets) : null;
    const t1 = performance.now();

    model = buildModel(options.model, { seed: training.seed });
    optimizer = buildOptimizer(training);
    const loss = training.loss ?? ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred));
    model.compile({ optimizer, loss, metrics: ['accuracy'] });
    const t2 = performance.now();

    const epochs: EpochTiming[] = [];
    let started = 0;
    let startedAt = 0;
    await model.fit(train.xs, train.ys, {
      epochs: training.epochs,
      batchSize: training.batchSize,
      validationData: validation ? [validation.xs, validation.ys] : undefined,
      shuffle: true,
      verbose: 0,
      callbacks: {
        onEpochBegin: async () => {
          started = performance.now();
          startedAt = Date.now();
        },
        onEpochEnd: async (epoch) => {
          const durationMs = performance.now() - started;
          epochs.push({ epoch: epoch + 1, startedAt, endedAt: Date.now(), durationMs, samplesPerSec: (train.n * 1000) / durationMs });
        },
      },
    });
    const t3 = performance.now();

    let testAccuracy: number | null = null;
    if (test) {
      const result = model.evaluate(test.xs, test.ys, { batchSize: training.batchSize }) as tf.Scalar[];
      testAccuracy = (await result[1].data())[0];
      tf.dispose(result);
    }
    const t4 = performance.now();
    const used = process.cpuUsage(cpu);
    return {
      trainExamples: split.train.length,
      validationExamples: split.validation.length,
      testExamples: split.test.length,
      dataMs: t1 - t0,
      buildMs: t2 - t1,
      fitMs: t3 - t2,
      evaluateMs: t4 - t3,
      totalMs: t4 - t0,
      epochs,
      testAccuracy,
      cpuMs: (used.user + used.system) / 1000,
    };
  } finally {
    tf.dispose(sets.flatMap((s) => [s.xs, s.ys]));
    model?.dispose();
    optimizer?.dispose();
  }
}
