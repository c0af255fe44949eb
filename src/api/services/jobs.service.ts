import type { AppConfig } from '../../config/config.js';
import { BUILTIN_DATASETS, resolveDataset, type DatasetInfo } from '../../data/datasets.js';
import { formatCount, planModel, normalizeTrainingSpec, resolveModelSpec, SpecError, type ModelPlan, type ModelSpec } from '../../model-spec/index.js';
import type { Db, EpochMetric } from '../../storage/prisma.js';
import type { StoredJob, StateEventData } from '../../storage/job.schema.js';
import type { JobWithModel } from '../../storage/jobs.repository.js';
import * as jobsRepo from '../../storage/jobs.repository.js';
import { enqueueTraining, type TrainQueue } from '../../queue/train-queue.js';
import { trainQueueJobId } from '../../queue/jobs.js';
import { isCurrentJobDocument, JOB_DOCUMENT_VERSION, jobDocumentToTrain, type JobDocument } from '../../queue/job-document.js';
import { ConflictError, InvalidRequestError, ProblemError, QuotaExceededError } from '../errors/index.js';
import { tenantQuotas } from '../../storage/quotas.repository.js';
import type { Quotas } from '../../config/quotas.js';
import { storedModelBytes } from '../../storage/models.repository.js';
import { specErrorExtensions } from '../plugins/app/error-handler.js';
import { submitIdempotently, type SubmissionKey } from './idempotency.js';
import type { SubmitJobBody, JobView } from '../routes/jobs/jobs.schema.js';

export interface JobsDeps {
  db: Db;
  queue: TrainQueue;
  config: AppConfig;
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Checks that the model fits the data: input shape, number of classes, enough examples to split. */
export function checkModelAgainstDataset(
  body: SubmitJobBody & { model: ModelSpec },
  dataset: DatasetInfo | null,
  plan: ModelPlan,
  training: ReturnType<typeof normalizeTrainingSpec>,
): number {
  if (!dataset) {
    throw new InvalidRequestError(
      `dataset.id '${body.dataset.id}' does not exist; use a built-in dataset (${BUILTIN_DATASETS.map((d) => d.id).join(', ')}) or the id of one of your uploads (GET /v1/datasets)`,
      [{ field: 'dataset.id', message: 'unknown dataset' }],
      'unknown-dataset',
    );
  }
  const inputShape = body.model.input.shape as number[];
  const flatOk = inputShape.length === 1 && inputShape[0] === product(dataset.inputShape);
  const exactOk = inputShape.length === dataset.inputShape.length && inputShape.every((d, i) => d === dataset.inputShape[i]);
  if (!flatOk && !exactOk) {
    throw new InvalidRequestError(
      `model.input.shape [${inputShape.join(', ')}] does not match dataset '${dataset.id}', whose examples are ` +
        `[${dataset.inputShape.join(', ')}] (or flat: [${product(dataset.inputShape)}])`,
      [{ field: 'model.input.shape', message: `must be [${dataset.inputShape.join(', ')}] or [${product(dataset.inputShape)}]` }],
      'dataset-mismatch',
    );
  }
  const out = plan.outputShape;
  if (out.length !== 1 || out[0] !== dataset.numClasses) {
    throw new InvalidRequestError(
      `the model outputs [${out.join(', ')}] per example but dataset '${dataset.id}' has ${dataset.numClasses} classes; ` +
        `end the model with a flat layer of ${dataset.numClasses} units (e.g. dense units: ${dataset.numClasses}, activation: softmax)`,
      [{ field: `model.layers[${body.model.layers.length - 1}]`, message: `must output [${dataset.numClasses}]` }],
      'dataset-mismatch',
    );
  }
  if (training.augmentation && !dataset.image) {
    throw new InvalidRequestError(
      `training.augmentation shifts, turns and zooms images, but dataset '${dataset.id}' holds ${dataset.format} examples of shape ` +
        `[${dataset.inputShape.join(', ')}], not images; leave augmentation out, or train on an image dataset (built-in mnist, idx or images uploads)`,
      [{ field: 'training.augmentation', message: 'needs an image dataset' }],
      'dataset-mismatch',
    );
  }
  const examples = Math.min(body.dataset.limit ?? dataset.examples, dataset.examples);
  if (body.dataset.limit !== undefined && body.dataset.limit > dataset.examples) {
    throw new InvalidRequestError(`dataset.limit ${body.dataset.limit} exceeds the ${dataset.examples} examples of dataset '${dataset.id}'`, [
      { field: 'dataset.limit', message: `must be at most ${dataset.examples}` },
    ]);
  }
  // validationSplit + testSplit below MAX_HELD_OUT_FRACTION is checked with the training spec.
  const trainExamples = Math.floor(examples * (1 - training.validationSplit - training.testSplit));
  if (trainExamples < dataset.numClasses) {
    throw new InvalidRequestError(`only about ${trainExamples} of ${examples} examples are left for training; use a larger dataset.limit`, [
      { field: 'dataset.limit', message: `too small for ${dataset.numClasses} classes` },
    ]);
  }
  return trainExamples;
}

/** The per-job size quotas (parameters, multiply-accumulates, epochs × training examples) of quotas `q`; a sweep checks each trial with them. */
export function checkJobSizeQuotas(q: Quotas, tenantId: string, plan: Pick<ModelPlan, 'totalParams' | 'macs'>, epochs: number, trainExamples: number): void {
  if (plan.totalParams > q.maxParams) {
    throw new QuotaExceededError(
      'maxParams',
      q.maxParams,
      plan.totalParams,
      `the model has ${formatCount(plan.totalParams)} parameters; tenant '${tenantId}' may train at most ${formatCount(q.maxParams)}`,
    );
  }
  if (plan.macs > q.maxMacs) {
    throw new QuotaExceededError(
      'maxMacs',
      q.maxMacs,
      plan.macs,
      `the model needs ${formatCount(plan.macs)} multiply-accumulates per example; tenant '${tenantId}' may train at most ${formatCount(q.maxMacs)}`,
    );
  }
  const work = epochs * trainExamples;
  if (work > q.epochSamples) {
    throw new QuotaExceededError(
      'epochSamples',
      q.epochSamples,
      work,
      `the job would train ${formatCount(epochs)} epochs × ${formatCount(trainExamples)} examples = ${formatCount(work)}; tenant '${tenantId}' may train at most ${formatCount(q.epochSamples)} per job`,
    );
  }
}

/** The tenant's quotas, checked before anything is stored. */
async function enforceQuotas(deps: JobsDeps, tenantId: string, plan: ModelPlan, epochs: number, trainExamples: number): Promise<void> {
  const q = await tenantQuotas(deps.db, deps.config, tenantId);
  checkJobSizeQuotas(q, tenantId, plan, epochs, trainExamples);
  const queued = await jobsRepo.countQueuedJobs(deps.db, tenantId);
  if (queued >= q.queuedJobs) {
    throw new QuotaExceededError(
      'queuedJobs',
      q.queuedJobs,
      queued,
      `tenant '${tenantId}' already has ${formatCount(queued)} queued jobs, its limit; wait for some to start or cancel them`,
      429,
    );
  }
  const stored = await storedModelBytes(deps.db, tenantId);
  if (stored >= q.artifactBytes) {
    throw new QuotaExceededError(
      'artifactBytes',
      q.artifactBytes,
      stored,
      `tenant '${tenantId}' stores ${formatCount(stored)} bytes of trained models, its limit of ${formatCount(q.artifactBytes)}; delete models to train more`,
    );
  }
}

/** Runs a spec check; a SpecError becomes a 400 whose field is located in the submitted body. */
function checked<T>(part: 'model' | 'training', check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof SpecError) throw new ProblemError(400, 'invalid-spec', 'Invalid Model Spec', err.message, specErrorExtensions(err, part));
    throw err;
  }
}

export interface Submission {
  job: JobWithModel;
  /** True when an earlier request with the same Idempotency-Key created the job. */
  replayed: boolean;
  /** False when Redis was unreachable: the job is stored and a worker's reconciler queues it later. */
  enqueued: boolean;
}

export async function submitJob(deps: JobsDeps, tenantId: string, body: SubmitJobBody, idempotencyKey?: string): Promise<Submission> {
  const { resource: job, replayed } = await submitIdempotently(
    { kind: 'job', key: idempotencyKey, body, findByKey: (key) => jobsRepo.findJobByIdempotencyKey(deps.db, tenantId, key) },
    (keyed) => createCheckedJob(deps, tenantId, body, keyed),
  );
  if (replayed) return { job, replayed, enqueued: true };
  try {
    await enqueueTraining(deps.queue, { jobId: job.id, tenantId });
    return { job, replayed: false, enqueued: true };
  } catch {
    // The row is the promise: a worker's reconciler queues stored jobs that Redis does not know.
    return { job, replayed: false, enqueued: false };
  }
}

/** Checks the job as a whole (spec, plan, dataset, quotas) and stores it, queued, with its idempotency key and body hash. */
async function createCheckedJob(deps: JobsDeps, tenantId: string, body: SubmitJobBody, keyed: SubmissionKey): Promise<JobWithModel> {
  const limits = { maxParams: deps.config.MAX_MODEL_PARAMS, maxMacs: deps.config.MAX_MODEL_MACS };
  // A Keras document becomes the compact spec here; everything after sees one form.
  const model = checked('model', () => resolveModelSpec(body.model));
  const plan = checked('model', () => planModel(model, limits));
  if (plan.limits.exceeded.length > 0) {
    throw new InvalidRequestError(
      `the model is too large to train here: ${plan.limits.exceeded.join('; ')}. POST /v1/plan shows the per-layer sizes.`,
      plan.limits.exceeded.map((message) => ({ field: 'model', message })),
      'model-too-large',
    );
  }
  const training = checked('training', () => normalizeTrainingSpec(body.training ?? {}, model));
  const dataset = await resolveDataset(deps.db, tenantId, body.dataset.id);
  const trainExamples = checkModelAgainstDataset({ ...body, model }, dataset, plan, training);
  await enforceQuotas(deps, tenantId, plan, training.epochs, trainExamples);

  // Stored as checked: the worker trains from this document and plan without planning or normalising again.
  const doc: JobDocument = { version: JOB_DOCUMENT_VERSION, model, training, dataset: body.dataset };
  const created = await jobsRepo.createJob(deps.db, {
    tenantId,
    name: body.name ?? null,
    spec: doc,
    plan,
    datasetId: body.dataset.id,
    queueName: deps.config.QUEUE_NAME,
    epochs: training.epochs,
    maxWallTimeMs: (training.maxWallTimeSeconds ?? deps.config.JOB_MAX_WALL_TIME_SECONDS) * 1000,
    ...keyed,
    registerName: body.register?.name ?? null,
  });
  return { ...created, model: null };
}

export type CancelOutcome = { job: JobWithModel; accepted: 'cancelled' | 'cancelling' };

/**
 * Cancels a job: at once when queued, cooperatively when running (the
 * trainer stops after its current batch). Repeating a cancel is harmless;
 * cancelling a finished job is a conflict.
 */
export async function cancelJob(deps: JobsDeps, tenantId: string, id: string): Promise<CancelOutcome | null> {
  for (let tries = 0; tries < 3; tries++) {
    const job = await jobsRepo.findJob(deps.db, tenantId, id);
    if (!job) return null;
    const now = new Date();
    switch (job.status) {
      case 'cancelled':
        return { job, accepted: 'cancelled' };
      case 'cancelling':
        return { job, accepted: 'cancelling' };
      case 'succeeded':
      case 'failed':
        throw new ConflictError('job-finished', `job ${id} has already ${job.status}; only queued or running jobs can be cancelled`, {
          jobStatus: job.status,
        });
      case 'queued':
        if (await jobsRepo.transition(deps.db, id, ['queued'], 'cancelled', { cancelRequestedAt: now, finishedAt: now }, { reason: 'cancelled by request' })) {
          // Best effort: a worker that still takes the entry finds the row cancelled and skips it.
          await deps.queue.remove(trainQueueJobId(id)).catch(() => undefined);
          return { job: (await jobsRepo.findJob(deps.db, tenantId, id))!, accepted: 'cancelled' };
        }
        break;
      case 'running':
        if (await jobsRepo.transition(deps.db, id, ['running'], 'cancelling', { cancelRequestedAt: now }, { reason: 'cancel requested' })) {
          return { job: (await jobsRepo.findJob(deps.db, tenantId, id))!, accepted: 'cancelling' };
        }
        break;
    }
    // The job changed state under us (e.g. a worker just took it): look again.
  }
  throw new ConflictError('job-busy', `job ${id} kept changing state; try again`);
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function metricView(m: EpochMetric) {
  return {
    epoch: m.epoch,
    loss: m.loss,
    accuracy: m.accuracy,
    valLoss: m.valLoss,
    valAccuracy: m.valAccuracy,
    durationMs: m.durationMs,
    samplesPerSec: m.samplesPerSec,
    learningRate: m.learningRate,
    createdAt: m.createdAt.toISOString(),
  };
}

/** The job's model and its training with every default filled in (an old row's training is normalised here; left out if it fails today's rules). */
function specView(doc: StoredJob['spec']): JobView['spec'] {
  if (isCurrentJobDocument(doc)) return { model: doc.model, training: doc.training };
  try {
    return { model: doc.model, training: jobDocumentToTrain(doc).training };
  } catch {
    return undefined;
  }
}

export function toJobView(
  job: StoredJob & { model?: { id: string; versions?: { version: number; registeredModel: { name: string } }[] } | null },
  latest: EpochMetric | null,
  history?: { data: StateEventData; createdAt: Date }[],
  baseUrl = '',
): JobView {
  const { plan, spec: doc } = job;
  const done = job.status === 'succeeded';
  const finishedEpochs = latest?.epoch ?? 0;
  const inEpoch = job.batchesPerEpoch > 0 && job.epoch > finishedEpochs ? job.batch / job.batchesPerEpoch : 0;
  const percent = done ? 100 : Math.min(100, Math.round(((finishedEpochs + inEpoch) / job.epochs) * 1000) / 10);
  const self = `${baseUrl}/v1/jobs/${job.id}`;
  const modelId = job.model?.id ?? null;
  const registered = job.registerName === null ? undefined : job.model?.versions?.find((v) => v.registeredModel.name === job.registerName);
  const spec = history ? specView(doc) : undefined;
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    dataset: doc.dataset,
    progress: { epoch: job.epoch, epochs: job.epochs, batch: job.batch, batchesPerEpoch: job.batchesPerEpoch, percent, loss: job.batchLoss, accuracy: job.batchAccuracy },
    metrics: latest ? metricView(latest) : null,
    test: job.testLoss !== null || job.testAccuracy !== null ? { loss: job.testLoss, accuracy: job.testAccuracy } : null,
    split: job.split,
    plan: { totalParams: plan.totalParams, trainableParams: plan.trainableParams, macs: plan.macs, outputShape: plan.outputShape },
    engine: job.engine,
    attempts: job.attempts,
    stopReason: job.stopReason,
    sweepId: job.sweepId,
    ...(history ? { history: history.map((e) => ({ ...e.data, at: e.createdAt.toISOString() })), ...(spec ? { spec } : {}) } : {}),
    modelId,
    register: job.registerName === null ? null : { name: job.registerName },
    registeredAs: registered ? { name: registered.registeredModel.name, version: registered.version } : null,
    error: job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? '' } : null,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    durationMs: job.startedAt ? (job.finishedAt ?? new Date()).getTime() - job.startedAt.getTime() : null,
    links: {
      self,
      metrics: `${self}/metrics`,
      events: `${self}/events`,
      cancel: `${self}/cancel`,
      ...(modelId ? { model: `${baseUrl}/v1/models/${modelId}`, predict: `${baseUrl}/v1/models/${modelId}/predict` } : {}),
    },
  };
}
