import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { Db } from '../storage/prisma.js';
import * as jobs from '../storage/jobs.repository.js';
import { completeJobWithModel } from '../storage/models.repository.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { modelArtifactKey, saveModelArtifact, type Preprocessing } from '../storage/model-artifacts.js';
import { loadDataset, type LoadedDataset } from '../data/load-dataset.js';
import { findDataset } from '../data/datasets.js';
import { stratifiedSplit } from '../data/split.js';
import { buildModel, buildOptimizer, normalizeTrainingSpec, planModel, SpecError, type ModelSpec } from '../spec/index.js';
import type { TrainProgress } from '../queue/jobs.js';
import { TrainingError } from './training-error.js';
import type { JobDocument } from '../queue/job-document.js';
import { finalActivation } from '../spec/final-activation.js';

export interface TrainContext {
  db: Db;
  artifacts: ArtifactStore;
  engine: { name: string; version: string; [k: string]: unknown };
  jobId: string;
  /** 1-based attempt number, as BullMQ counts it. */
  attempt: number;
  reportProgress(progress: TrainProgress): Promise<void>;
}

export type TrainOutcome = { status: 'succeeded'; modelId: string } | { status: 'skipped'; reason: string };

const PROGRESS_EVERY_MS = 250;
const DB_PROGRESS_EVERY_MS = 1000;

function gather(data: LoadedDataset, indices: Uint32Array, shape: number[]): { xs: tf.Tensor; ys: tf.Tensor; n: number } {
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  indices.forEach((row, i) => {
    x.set(data.x.subarray(row * size, (row + 1) * size), i * size);
    labels[i] = data.y[row];
  });
  return {
    xs: tf.tensor(x, [indices.length, ...shape]),
    ys: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), data.numClasses).toFloat()),
    n: indices.length,
  };
}

/**
 * Trains one job end to end: data, model, fit with per-epoch metrics,
 * test evaluation, artifact, model row. Runs inside a sandboxed process.
 */
export async function trainJob(ctx: TrainContext): Promise<TrainOutcome> {
  const row = await jobs.markRunning(ctx.db, ctx.jobId, { engine: ctx.engine as object, attempts: ctx.attempt });
  if (!row) return { status: 'skipped', reason: 'job is no longer queued or running' };

  const doc = row.spec as unknown as JobDocument;
  // The API validated this document; a stored one that no longer passes (older format, edited row) never will.
  let training: ReturnType<typeof normalizeTrainingSpec>;
  try {
    planModel(doc.model);
    training = normalizeTrainingSpec(doc.training ?? {}, doc.model);
  } catch (err) {
    if (err instanceof SpecError) throw new TrainingError('invalid-spec', err.message);
    throw err;
  }
  const info = findDataset(doc.dataset.id);
  if (!info) throw new TrainingError('dataset-unavailable', `dataset '${doc.dataset.id}' is not available on this worker`);
  const data = await loadDataset(doc.dataset.id, doc.dataset.limit);
  const split = stratifiedSplit(data.y, { validation: training.validationSplit, test: training.testSplit }, training.seed);
  if (split.train.length === 0) {
    throw new TrainingError('dataset-too-small', `the dataset has ${data.count} examples; none is left for training after the validation and test splits`);
  }
  const inputShape = [...(doc.model as ModelSpec).input.shape];
  // A linear last layer emits logits (as in the lesson's network): train with softmax cross-entropy on them.
  const outputs = finalActivation(doc.model as ModelSpec) === 'linear' ? 'logits' : 'probabilities';

  const tensors: tf.Tensor[] = [];
  const track = <T extends { xs: tf.Tensor; ys: tf.Tensor }>(t: T): T => (tensors.push(t.xs, t.ys), t);
  let model: tf.LayersModel | null = null;
  let optimizer: tf.Optimizer | null = null;
  try {
    const train = track(gather(data, split.train, inputShape));
    const validation = split.validation.length ? track(gather(data, split.validation, inputShape)) : null;
    const test = split.test.length ? track(gather(data, split.test, inputShape)) : null;

    try {
      model = buildModel(doc.model as ModelSpec, { seed: training.seed });
    } catch (err) {
      throw new TrainingError('model-build-failed', `the model could not be built: ${(err as Error).message}`);
    }
    optimizer = buildOptimizer(training);
    const loss = training.loss ?? ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred));
    model.compile({ optimizer, loss, metrics: ['accuracy'] });

    const batchesPerEpoch = Math.ceil(train.n / training.batchSize);
    await jobs.updateProgress(ctx.db, ctx.jobId, {
      epoch: 0,
      batch: 0,
      batchesPerEpoch,
      split: { train: split.train.length, validation: split.validation.length, test: split.test.length, seed: training.seed },
    });

    let epoch = 0;
    let epochStarted = 0;
    let lastProgress = 0;
    let lastDbProgress = 0;
    await model.fit(train.xs, train.ys, {
      epochs: training.epochs,
      batchSize: training.batchSize,
      validationData: validation ? [validation.xs, validation.ys] : undefined,
      shuffle: true,
      verbose: 0,
      callbacks: {
        onEpochBegin: async (e) => {
          epoch = e + 1;
          epochStarted = performance.now();
        },
        onBatchEnd: async (b) => {
          const now = performance.now();
          if (now - lastProgress >= PROGRESS_EVERY_MS) {
            lastProgress = now;
            await ctx.reportProgress({ epoch, epochs: training.epochs, batch: b + 1, batchesPerEpoch });
          }
          if (now - lastDbProgress >= DB_PROGRESS_EVERY_MS) {
            lastDbProgress = now;
            await jobs.updateProgress(ctx.db, ctx.jobId, { epoch, batch: b + 1, batchesPerEpoch });
          }
        },
        onEpochEnd: async (_e, logs = {}) => {
          const durationMs = Math.max(1, Math.round(performance.now() - epochStarted));
          if (!Number.isFinite(logs.loss)) {
            throw new TrainingError(
              'loss-diverged',
              `the training loss became ${logs.loss} in epoch ${epoch}; lower the learning rate (now ${training.learningRate}) or check the data`,
            );
          }
          await jobs.recordEpoch(ctx.db, ctx.jobId, {
            epoch,
            loss: logs.loss,
            accuracy: metric(logs, 'acc', 'accuracy'),
            valLoss: metric(logs, 'val_loss'),
            valAccuracy: metric(logs, 'val_acc', 'val_accuracy'),
            durationMs,
            samplesPerSec: (train.n * 1000) / durationMs,
          });
          await jobs.updateProgress(ctx.db, ctx.jobId, { epoch, batch: batchesPerEpoch, batchesPerEpoch });
          await ctx.reportProgress({ epoch, epochs: training.epochs, batch: batchesPerEpoch, batchesPerEpoch });
        },
      },
    });

    let testLoss: number | null = null;
    let testAccuracy: number | null = null;
    if (test) {
      const result = model.evaluate(test.xs, test.ys, { batchSize: training.batchSize }) as tf.Scalar[];
      [testLoss, testAccuracy] = await Promise.all(result.map(async (t) => (await t.data())[0]));
      tf.dispose(result);
    }

    const last = await jobs.latestMetric(ctx.db, ctx.jobId);
    const existing = await ctx.db.trainedModel.findUnique({ where: { jobId: ctx.jobId }, select: { id: true } });
    const modelId = existing?.id ?? randomUUID();
    const artifactKey = modelArtifactKey(modelId);
    const sizeBytes = await saveModelArtifact(ctx.artifacts, artifactKey, model);
    const preprocessing: Preprocessing = { inputShape, valueRange: info.valueRange, outputs };
    await completeJobWithModel(
      ctx.db,
      {
        id: modelId,
        tenantId: row.tenantId,
        jobId: ctx.jobId,
        name: row.name,
        inputShape,
        numClasses: info.numClasses,
        classNames: info.classNames,
        spec: doc.model as object,
        metrics: {
          epochs: last?.epoch ?? training.epochs,
          loss: last?.loss ?? null,
          accuracy: last?.accuracy ?? null,
          valLoss: last?.valLoss ?? null,
          valAccuracy: last?.valAccuracy ?? null,
          testLoss,
          testAccuracy,
        },
        preprocessing: preprocessing as object,
        artifactKey,
        sizeBytes,
        engine: ctx.engine as object,
      },
      { testLoss, testAccuracy },
    );
    return { status: 'succeeded', modelId };
  } finally {
    tf.dispose(tensors);
    model?.dispose();
    optimizer?.dispose();
  }
}

function metric(logs: tf.Logs, ...names: string[]): number | null {
  for (const name of names) if (typeof logs[name] === 'number' && Number.isFinite(logs[name])) return logs[name];
  return null;
}
