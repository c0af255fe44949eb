import { Type, type Static } from 'typebox';
import { KerasModelEnvelopeSchema, ModelSpecSchema, TrainingSpecSchema, SEED_MNIST_MODEL, type KerasModelEnvelope, type ModelSpec } from '../../../model-spec/index.js';
import { Nullable, UuidSchema } from '../../schemas/common.schema.js';
import { idempotencyHeadersSchema } from '../../schemas/idempotency.schema.js';
import { RegisteredModelNameSchema } from '../../../storage/registry.schema.js';
import { StoredSplitSchema } from '../../../storage/job.schema.js';
// The one list of job states: the database enum, through storage.
import { JOB_STATUSES } from '../../../storage/jobs.repository.js';

export const DatasetRefSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 100, description: 'Dataset id; built-in: `mnist`. See GET /v1/datasets.' }),
    limit: Type.Optional(Type.Integer({ minimum: 10, description: 'Use only the first N examples (a fixed, class-interleaved order). Default: all.' })),
  },
  { additionalProperties: false, description: 'The data to train on.' },
);

/**
 * The compact spec, or `{ "keras": <model JSON> }`. if/then/else rather than
 * a union, so that a mistake in either form is reported against that form only.
 */
export const ModelInputSchema = Type.Unsafe<ModelSpec | KerasModelEnvelope>({
  if: { type: 'object', required: ['keras'] },
  then: KerasModelEnvelopeSchema,
  else: ModelSpecSchema,
  description:
    'The network: the compact spec (input shape and layers), or `{"keras": ...}` with a Keras `to_json()` / tfjs `toJSON()` ' +
    'document or a tfjs model.json, which is converted to the compact spec and planned the same way.',
});

export const SubmitJobBodySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'A label for the job and its model.' })),
    model: ModelInputSchema,
    training: Type.Optional(TrainingSpecSchema),
    dataset: DatasetRefSchema,
    register: Type.Optional(
      Type.Object(
        { name: RegisteredModelNameSchema },
        {
          additionalProperties: false,
          description:
            'When the job succeeds, register its model as the next version of this registered model (created on first use), ' +
            'in the same transaction that marks the job succeeded. See /v1/registered-models.',
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        name: 'seed-mnist',
        model: SEED_MNIST_MODEL,
        training: { optimizer: 'adam', learningRate: 0.001, epochs: 2, batchSize: 64, validationSplit: 0.1, seed: 42 },
        dataset: { id: 'mnist', limit: 2000 },
      },
    ],
  },
);
export type SubmitJobBody = Static<typeof SubmitJobBodySchema>;

export const EpochMetricSchema = Type.Object({
  epoch: Type.Integer({ description: '1-based epoch number.' }),
  loss: Type.Number(),
  accuracy: Nullable(Type.Number()),
  valLoss: Nullable(Type.Number()),
  valAccuracy: Nullable(Type.Number()),
  durationMs: Type.Integer(),
  samplesPerSec: Type.Number({ description: 'Training examples per second in this epoch.' }),
  learningRate: Nullable(
    Type.Number({
      description:
        'Learning rate this epoch trained at, as `training.learningRateSchedule` set it (during a warm-up, the rate of its last batch). ' +
        'Null for epochs trained before the rate was recorded.',
    }),
  ),
  createdAt: Type.String({ format: 'date-time' }),
});

export const JobSchema = Type.Object(
  {
    id: UuidSchema,
    name: Nullable(Type.String()),
    status: Type.Enum([...JOB_STATUSES], {
      description:
        'queued: stored, waiting for a worker (also after a retry or a worker hand-back). running: a worker is training it. ' +
        'succeeded: trained, `modelId` is set (possibly early-stopped: see `stopReason`). failed: stopped with `error`, ' +
        'never retried further. cancelling: a cancel was requested, the worker stops after its current batch. ' +
        'cancelled: stopped on request; metrics up to then are kept. succeeded, failed and cancelled are final.',
    }),
    dataset: DatasetRefSchema,
    progress: Type.Object({
      epoch: Type.Integer({ description: 'Current (or last finished) epoch, 1-based; 0 before training starts.' }),
      epochs: Type.Integer(),
      batch: Type.Integer({ description: 'Batches done in the current epoch.' }),
      batchesPerEpoch: Type.Integer({ description: '0 until the worker has split the data.' }),
      percent: Type.Number({ description: 'Overall progress, 0 to 100.' }),
      loss: Nullable(Type.Number({ description: "Mean training loss of the current epoch's batches so far (of the last epoch once it ended); null before the first batch." })),
      accuracy: Nullable(Type.Number({ description: "Mean training accuracy of the current epoch's batches so far; null before the first batch." })),
    }),
    metrics: Nullable(EpochMetricSchema),
    test: Nullable(Type.Object({ loss: Nullable(Type.Number()), accuracy: Nullable(Type.Number()) }, { description: 'Evaluation on the held-out test split, after training.' })),
    split: Nullable(Type.Object(StoredSplitSchema.properties, { description: 'Examples in each part of the seeded, stratified split.' })),
    plan: Type.Object({
      totalParams: Type.Integer(),
      trainableParams: Type.Integer(),
      macs: Type.Integer({ description: 'Multiply-accumulates per example, forward pass.' }),
      outputShape: Type.Array(Type.Integer()),
    }),
    engine: Nullable(
      Type.Object(
        {
          name: Type.String({ description: 'tensorflow (tfjs-node), native (oneDNN add-on), wasm or cpu: the engine that actually trained the job.' }),
          version: Type.String(),
        },
        { additionalProperties: true, description: 'For native also library, libraryVersion, implementation and threadCount.' },
      ),
    ),
    attempts: Type.Integer({ description: 'Training attempts so far (retries after infrastructure failures count).' }),
    stopReason: Nullable(Type.String({ description: 'Why a succeeded job trained fewer epochs than asked (early stopping, or its sweep stopping a weak trial).' })),
    sweepId: Type.Union([UuidSchema, Type.Null()], { description: 'The sweep this job is a trial of (GET /v1/sweeps/{id}); null for a job submitted on its own.' }),
    history: Type.Optional(
      Type.Array(
        Type.Object(
          {
            status: Type.String(),
            at: Type.String({ format: 'date-time' }),
            attempt: Type.Optional(Type.Integer()),
            reason: Type.Optional(Type.String()),
            error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
          },
          { additionalProperties: true },
        ),
        { description: 'Every state change with its time, oldest first (GET /v1/jobs/{id} only).' },
      ),
    ),
    spec: Type.Optional(
      Type.Object(
        {
          model: Type.Unknown({ description: 'The model as stored: the compact spec (a submitted Keras document is stored converted).' }),
          // The submitted form's schema (one definition in the document); here every default is filled in.
          training: TrainingSpecSchema,
        },
        { description: 'What the job trains (GET /v1/jobs/{id} only), training with every default filled in: compare runs, or submit an edited copy.' },
      ),
    ),
    modelId: Nullable(UuidSchema),
    register: Nullable(Type.Object({ name: Type.String() }, { description: 'The registration asked for at submission.' })),
    registeredAs: Nullable(
      Type.Object(
        { name: Type.String(), version: Type.Integer() },
        { description: 'The registered model version the job produced, once it succeeded (null before, or when that version was deleted).' },
      ),
    ),
    error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    startedAt: Nullable(Type.String({ format: 'date-time' })),
    finishedAt: Nullable(Type.String({ format: 'date-time' })),
    durationMs: Nullable(Type.Integer({ description: 'From start to finish, or to now while running.' })),
    links: Type.Object({
      self: Type.String(),
      metrics: Type.String(),
      events: Type.String(),
      cancel: Type.String(),
      model: Type.Optional(Type.String()),
      predict: Type.Optional(Type.String()),
    }),
  },
  { title: 'Job' },
);
export type JobView = Static<typeof JobSchema>;

export const JobListSchema = Type.Object({ items: Type.Array(JobSchema), nextCursor: Nullable(Type.String()) });

export const JobListQuerySchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1-100).' }),
    cursor: Type.Optional(Type.String({ format: 'uuid', description: 'The `nextCursor` of the previous page.' })),
    status: Type.Optional(Type.Enum([...JOB_STATUSES], { description: 'Only jobs in this status.' })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only jobs whose name contains this text (case-insensitive).' })),
    sweepId: Type.Optional(Type.String({ format: 'uuid', description: 'Only the trials of this sweep.' })),
  },
  { additionalProperties: false },
);

export const MetricsListSchema = Type.Object({ jobId: UuidSchema, items: Type.Array(EpochMetricSchema) });

export const SubmitHeadersSchema = idempotencyHeadersSchema('job');
