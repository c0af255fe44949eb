import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { Db } from '../storage/prisma.js';
import * as jobs from '../storage/jobs.repository.js';
import { completeJobWithModel, findModelIdOfJob } from '../storage/models.repository.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { modelArtifactKey, saveModelArtifact, type Preprocessing } from '../storage/model-artifacts.js';
import { loadDatasetExamples, resolveDataset } from '../data/datasets.js';
import { normalizationFor } from '../data/normalization.js';
import { computeStats } from '../data/parsers/index.js';
import { stratifiedSplit } from '../data/split.js';
import { buildModel, buildOptimizer, finalActivation, SpecError } from '../model-spec/index.js';
import type { TrainProgress } from '../queue/jobs.js';
import { jobDocumentToTrain, type JobDocument } from '../queue/job-document.js';
import { readJobDocument, readJobPlan, type StoredPlan } from '../storage/job.schema.js';
import { StoredJsonError } from '../storage/stored-json.js';
import { Value } from 'typebox/value';
import { RegisteredModelNameSchema, REGISTERED_MODEL_NAME_RULE } from '../storage/registry.schema.js';
import { TrainingError } from './training-error.js';
import { HandBackError } from './hand-back.error.js';
import { LockLostError } from './lock-lost.error.js';
import { TrainingControl } from './training-control.js';
import { loadCheckpoint, pruneCheckpoints, saveCheckpoint } from './checkpoints.js';
import { gatherExampleArrays, gatherExamples, type Examples } from './examples.js';
import { epochBatches, type BatchOptions } from './training-batches.js';
import { LearningRateScheduler, setOptimizerLearningRate, type EpochMetrics } from './learning-rate-scheduler.js';
import { isOutOfMemoryError, outOfMemoryError } from './out-of-memory.js';
import { NativeKernelError } from '../engine/native-kernel.error.js';

export interface TrainContext {
  db: Db;
  artifacts: ArtifactStore;
  engine: { name: string; version: string; [k: string]: unknown };
  jobId: string;
  /** Default wall-time limit of one attempt (ms), unless the job sets one. */
  maxWallTimeMs: number;
  /** The tenant's limit of jobs running at once, from its quotas. */
  maxRunning: jobs.RunningLimit;
  /**
   * Aborted when this worker shuts down (stop after the batch, keep the
   * checkpoint, hand the job back) or loses the job's queue lock (reason
   * LOCK_LOST: stop after the batch and leave the job to its new owner).
   */
  signal?: AbortSignal;
  reportProgress(progress: TrainProgress): Promise<void>;
}

export type TrainOutcome =
  | { status: 'succeeded'; modelId: string; stopReason: string | null }
  | { status: 'cancelled'; epochs: number }
  | { status: 'skipped'; reason: string }
  | { status: 'deferred'; reason: string };

const PROGRESS_EVERY_MS = 250;
const DB_PROGRESS_EVERY_MS = 1000;

/** The document and plan the API stored, as checked then: nothing is planned or normalised again here. */
function readDocument(row: { id: string; spec: unknown; plan: unknown }): { doc: JobDocument; plan: StoredPlan } {
  // The API validated both; a stored one that no longer passes (edited row, or an old row whose training fails today's rules) never will.
  try {
    return { doc: jobDocumentToTrain(readJobDocument(row.spec, row.id)), plan: readJobPlan(row.plan, row.id) };
  } catch (err) {
    if (err instanceof SpecError || err instanceof StoredJsonError) throw new TrainingError('invalid-spec', err.message);
    throw err;
  }
}

/**
 * The wall-time limit of one attempt, in ms: the job's own `maxWallTimeSeconds`,
 * else the limit stored on its row at submission (already ms: the server's
 * default then), else this worker's default (ms).
 */
export function wallTimeLimitMs(jobSeconds: number | undefined, rowMs: number | null, workerDefaultMs: number): number {
  if (jobSeconds !== undefined) return jobSeconds * 1000;
  return rowMs ?? workerDefaultMs;
}

/**
 * Trains one job attempt end to end: data, model (fresh, or the last
 * checkpoint when an earlier attempt got that far), fit with per-epoch
 * metrics and checkpoints, test evaluation, artifact, model row. Runs inside
 * a sandboxed process.
 */
export async function trainJob(ctx: TrainContext): Promise<TrainOutcome> {
  const claim = await jobs.markRunning(ctx.db, ctx.jobId, { engine: ctx.engine as object, maxRunning: ctx.maxRunning });
  if ('gone' in claim) return { status: 'skipped', reason: 'job is no longer queued or running' };
  if ('busy' in claim) return { status: 'deferred', reason: `tenant runs ${claim.running} jobs, its limit` };
  const row = claim.claimed;
  const { doc, plan } = readDocument(row);
  const { training } = doc;
  // Checked before training, not after: a name that cannot be registered would fail the job at its very end.
  if (row.registerName !== null && !Value.Check(RegisteredModelNameSchema, row.registerName)) {
    throw new TrainingError('invalid-spec', `register.name ${JSON.stringify(row.registerName)} must be ${REGISTERED_MODEL_NAME_RULE}`);
  }
  const info = await resolveDataset(ctx.db, row.tenantId, doc.dataset.id);
  const data = info && (await loadDatasetExamples(ctx.db, ctx.artifacts, row.tenantId, doc.dataset.id, doc.dataset.limit));
  if (!info || !data) throw new TrainingError('dataset-unavailable', `dataset '${doc.dataset.id}' no longer exists`);
  // Built-in datasets carry no stored statistics: take them from the examples themselves.
  const stats = info.stats ?? computeStats(data.x, data.y, info.inputShape, info.numClasses);
  const normalization = normalizationFor(training.normalization, stats, info.inputShape[info.inputShape.length - 1]);
  const split = stratifiedSplit(data.y, { validation: training.validationSplit, test: training.testSplit }, training.seed);
  if (split.train.length === 0) {
    throw new TrainingError('dataset-too-small', `the dataset has ${data.count} examples; none is left for training after the validation and test splits`);
  }
  const inputShape = [...doc.model.input.shape];
  // A linear last layer emits logits (as in the lesson's network): train with softmax cross-entropy on them.
  const outputs = finalActivation(doc.model) === 'linear' ? 'logits' : 'probabilities';
  const maxWallTimeMs = wallTimeLimitMs(training.maxWallTimeSeconds, row.maxWallTimeMs, ctx.maxWallTimeMs);
  const control = new TrainingControl(ctx.db, ctx.jobId, maxWallTimeMs, ctx.signal, training.earlyStopping);
  // A sweep's trial: the sweep's early stopping (ASHA, median rule) may end it after an epoch.
  if (row.sweepId !== null) control.judgeAsTrial();
  // Augmentation resamples images in their stored layout, [height, width, channels], whatever shape the model takes them in.
  if (training.augmentation && !info.image) throw new TrainingError('invalid-spec', `training.augmentation needs an image dataset; dataset '${info.id}' holds no images`);
  const batchOptions: BatchOptions = {
    batchSize: training.batchSize,
    seed: training.seed,
    augmentation: training.augmentation && { settings: training.augmentation, image: { height: info.inputShape[0], width: info.inputShape[1], channels: info.inputShape[2] } },
  };

  const sets: Examples[] = [];
  let model: tf.LayersModel | null = null;
  let optimizer: tf.Optimizer | null = null;
  let failed = false;
  try {
    // The training set stays in arrays: each batch is cut (and augmented) from it as it is trained on.
    const train = gatherExampleArrays(data, split.train, inputShape, normalization);
    const validation = split.validation.length ? gatherExamples(data, split.validation, inputShape, normalization, sets) : null;
    const test = split.test.length ? gatherExamples(data, split.test, inputShape, normalization, sets) : null;

    optimizer = buildOptimizer(training);
    const scheduler = new LearningRateScheduler(training.learningRate, training.learningRateSchedule, training.epochs);
    let initialEpoch = 0;
    if (row.checkpointEpoch > 0) {
      const checkpoint = await loadCheckpoint(ctx.artifacts, ctx.jobId, row.checkpointEpoch);
      model = checkpoint.model;
      initialEpoch = row.checkpointEpoch;
      for (const m of await jobs.listMetrics(ctx.db, ctx.jobId)) control.afterEpoch(m.epoch, metricsOf(m));
      // The checkpoint's epoch may have ended before its sweep ruled on it; a ruling already made is only read back.
      await control.afterTrialEpoch(row.checkpointEpoch);
      // Adam and friends create their slots lazily; setWeights restores them, iteration count included.
      await optimizer.setWeights(checkpoint.optimizerWeights);
      tf.dispose(checkpoint.optimizerWeights.map((w) => w.tensor));
      scheduler.restore(checkpoint.scheduleState, `the checkpoint of epoch ${row.checkpointEpoch}`);
    } else {
      try {
        model = buildModel(doc.model, { seed: training.seed });
      } catch (err) {
        if (isOutOfMemoryError(err)) throw err;
        // A model that does not plan never reaches a row through the API; one written behind its back can never train.
        if (err instanceof SpecError) throw new TrainingError('invalid-spec', err.message);
        throw new TrainingError('model-build-failed', `the model could not be built: ${(err as Error).message}`);
      }
    }
    const loss = training.loss ?? ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred));
    model.compile({ optimizer, loss, metrics: ['accuracy'] });

    const batchesPerEpoch = Math.ceil(train.n / training.batchSize);
    const splitInfo = { train: split.train.length, validation: split.validation.length, test: split.test.length, seed: training.seed };
    await jobs.updateProgress(ctx.db, ctx.jobId, { epoch: initialEpoch, batch: 0, batchesPerEpoch, split: splitInfo });

    const fitted = model;
    let epoch = initialEpoch;
    let epochStarted = 0;
    let lastProgress = 0;
    let lastDbProgress = 0;
    // Means of this epoch's batches so far: what the live per-batch curve shows.
    let batchLossSum = 0;
    let batchAccuracySum = 0;
    let batchesSeen = 0;
    let accuracySeen = 0;
    let rate = training.learningRate;
    // Asked for at the start of each epoch, after onEpochBegin has set `epoch`.
    const batches = tf.data.generator(() => epochBatches(train, batchOptions, epoch, inputShape, data.numClasses));
    if (initialEpoch < training.epochs && !control.cause) {
      await fitted.fitDataset(batches, {
        epochs: training.epochs,
        initialEpoch,
        validationData: validation ? [validation.xs, validation.ys] : undefined,
        validationBatchSize: training.batchSize,
        verbose: 0,
        callbacks: {
          onEpochBegin: async (e) => {
            epoch = e + 1;
            epochStarted = performance.now();
            batchLossSum = batchAccuracySum = batchesSeen = accuracySeen = 0;
          },
          onBatchBegin: async (b) => {
            const next = scheduler.rateAt(epoch, b, batchesPerEpoch);
            if (next !== rate) setOptimizerLearningRate(optimizer!, next);
            rate = next;
          },
          onBatchEnd: async (b, logs = {}) => {
            const batchLoss = metric(logs, 'loss');
            const batchAccuracy = metric(logs, 'acc', 'accuracy');
            if (batchLoss !== null) {
              batchLossSum += batchLoss;
              batchesSeen++;
            }
            if (batchAccuracy !== null) {
              batchAccuracySum += batchAccuracy;
              accuracySeen++;
            }
            if (await control.afterBatch()) fitted.stopTraining = true;
            const now = performance.now();
            if (now - lastProgress >= PROGRESS_EVERY_MS) {
              lastProgress = now;
              await ctx.reportProgress({ epoch, epochs: training.epochs, batch: b + 1, batchesPerEpoch });
            }
            if (now - lastDbProgress >= DB_PROGRESS_EVERY_MS) {
              lastDbProgress = now;
              await jobs.updateProgress(ctx.db, ctx.jobId, {
                epoch,
                batch: b + 1,
                batchesPerEpoch,
                batchLoss: batchesSeen ? batchLossSum / batchesSeen : null,
                batchAccuracy: accuracySeen ? batchAccuracySum / accuracySeen : null,
              });
            }
          },
          onEpochEnd: async (_e, logs = {}) => {
            // An epoch cut short by a stop request is not a finished epoch: no metrics, no checkpoint.
            if (control.cause && control.cause.kind !== 'early-stopping') return;
            const durationMs = Math.max(1, Math.round(performance.now() - epochStarted));
            if (!Number.isFinite(logs.loss)) {
              throw new TrainingError(
                'loss-diverged',
                `the training loss became ${logs.loss} in epoch ${epoch}; lower the learning rate (now ${training.learningRate}) or check the data`,
              );
            }
            const metrics = {
              loss: logs.loss,
              accuracy: metric(logs, 'acc', 'accuracy'),
              valLoss: metric(logs, 'val_loss'),
              valAccuracy: metric(logs, 'val_acc', 'val_accuracy'),
            };
            const monitored: EpochMetrics = { loss: metrics.loss, accuracy: metrics.accuracy, val_loss: metrics.valLoss, val_accuracy: metrics.valAccuracy };
            const learningRate = scheduler.epochRate(epoch, batchesPerEpoch);
            // Before the checkpoint: it keeps the schedule's state after this epoch.
            scheduler.afterEpoch(monitored);
            await saveCheckpoint(ctx.artifacts, ctx.jobId, epoch, fitted, optimizer!, scheduler.state());
            await jobs.recordEpoch(ctx.db, ctx.jobId, { epoch, ...metrics, learningRate, durationMs, samplesPerSec: (train.n * 1000) / durationMs }, epoch);
            await pruneCheckpoints(ctx.artifacts, ctx.jobId, epoch);
            await jobs.updateProgress(ctx.db, ctx.jobId, { epoch, batch: batchesPerEpoch, batchesPerEpoch, batchLoss: metrics.loss, batchAccuracy: metrics.accuracy });
            await ctx.reportProgress({ epoch, epochs: training.epochs, batch: batchesPerEpoch, batchesPerEpoch, epochSeconds: durationMs / 1000, epochSamples: train.n });
            if (control.afterEpoch(epoch, monitored)) {
              fitted.stopTraining = true;
            }
            if (await control.afterTrialEpoch(epoch)) fitted.stopTraining = true;
          },
        },
      });
    }

    switch (control.cause?.kind) {
      case 'cancelled':
        await jobs.markCancelled(ctx.db, ctx.jobId);
        await pruneCheckpoints(ctx.artifacts, ctx.jobId);
        return { status: 'cancelled', epochs: (await jobs.latestMetric(ctx.db, ctx.jobId))?.epoch ?? 0 };
      case 'lock-lost':
        // No database call here: the outage that cost the lock may have taken PostgreSQL too.
        throw new LockLostError(`the queue lock was lost; training stopped in epoch ${epoch}`);
      case 'shutdown':
        throw new HandBackError(`worker shutting down; the job resumes after epoch ${(await jobs.latestMetric(ctx.db, ctx.jobId))?.epoch ?? 0}`);
      case 'timeout':
        throw new TrainingError(
          'timeout',
          `training exceeded its wall-time limit of ${Math.round(control.cause.limitMs / 1000)} s; raise training.maxWallTimeSeconds or train less`,
        );
    }
    const stopReason = control.cause?.kind === 'early-stopping' ? control.cause.reason : null;

    let testLoss: number | null = null;
    let testAccuracy: number | null = null;
    if (test) {
      const result = fitted.evaluate(test.xs, test.ys, { batchSize: training.batchSize }) as tf.Scalar[];
      [testLoss, testAccuracy] = await Promise.all(result.map(async (t) => (await t.data())[0]));
      tf.dispose(result);
    }

    const last = await jobs.latestMetric(ctx.db, ctx.jobId);
    const modelId = (await findModelIdOfJob(ctx.db, ctx.jobId)) ?? randomUUID();
    const artifactKey = modelArtifactKey(modelId);
    const sizeBytes = await saveModelArtifact(ctx.artifacts, artifactKey, fitted);
    const preprocessing: Preprocessing = {
      inputShape,
      valueRange: info.valueRange,
      outputs,
      normalization,
      // Images sent to predict as PNG/JPEG are decoded to the dataset's size and brought to its value range.
      image: info.image && inputShape.length === 3 ? { ...info.image, valueScale: info.valueRange[1] <= 1 ? 1 / 255 : 1 } : null,
    };
    const saved = await completeJobWithModel(
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
          epochs: last?.epoch ?? 0,
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
      { testLoss, testAccuracy, stopReason },
      row.registerName !== null ? { name: row.registerName, datasetContentHash: info.contentHash } : undefined,
    );
    await pruneCheckpoints(ctx.artifacts, ctx.jobId);
    if (!saved) {
      // Cancelled while evaluating or saving: the cancel wins, the artifact goes.
      await ctx.artifacts.remove(artifactKey);
      await jobs.markCancelled(ctx.db, ctx.jobId);
      return { status: 'cancelled', epochs: last?.epoch ?? 0 };
    }
    return { status: 'succeeded', modelId, stopReason };
  } catch (err) {
    failed = true;
    const nativeOutOfMemory = err instanceof NativeKernelError && err.nativeCode === 'ERR_NATIVE_OUT_OF_MEMORY';
    // The same kernel on the same shapes fails the same way on every attempt: fail now, naming it.
    if (err instanceof NativeKernelError && !nativeOutOfMemory) throw new TrainingError('engine-failed', err.message);
    if (!isOutOfMemoryError(err) && !nativeOutOfMemory) throw err;
    throw outOfMemoryError(err, { plan, batchSize: training.batchSize, trainExamples: split.train.length, engine: ctx.engine.name, optimizer: training.optimizer });
  } finally {
    try {
      tf.dispose(sets.flatMap((s) => [s.xs, s.ys]));
      model?.dispose();
      optimizer?.dispose();
    } catch (err) {
      // After a wasm abort nothing can be freed; the failure that got us here is the one to report.
      // biome-ignore lint/correctness/noUnsafeFinally: a failed cleanup after a successful run is itself the error to report
      if (!failed) throw err;
    }
  }
}

function metricsOf(m: { loss: number; accuracy: number | null; valLoss: number | null; valAccuracy: number | null }) {
  return { loss: m.loss, accuracy: m.accuracy, val_loss: m.valLoss, val_accuracy: m.valAccuracy };
}

function metric(logs: tf.Logs, ...names: string[]): number | null {
  for (const name of names) if (typeof logs[name] === 'number' && Number.isFinite(logs[name])) return logs[name];
  return null;
}
