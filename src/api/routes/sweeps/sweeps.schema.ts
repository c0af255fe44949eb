import { Type, type Static } from 'typebox';
import { SEED_MNIST_MODEL, TrainingSpecSchema } from '../../../model-spec/index.js';
import { expects } from '../../../model-spec/schema-errors.js';
import {
  ASHA_DEFAULTS,
  DistributionSchema,
  MAX_SPACE_DIMENSIONS,
  MAX_SWEEP_PARALLELISM,
  MAX_SWEEP_TRIALS,
  MEDIAN_DEFAULTS,
  SWEEP_ALGORITHMS,
  SWEEP_GOALS,
  SWEEP_METRICS,
} from '../../../queue/sweep-document.js';
import { JOB_STATUSES } from '../../../storage/jobs.repository.js';
import { SWEEP_STATUSES } from '../../../storage/sweeps.repository.js';
import { Nullable, UuidSchema } from '../../schemas/common.schema.js';
import { idempotencyHeadersSchema } from '../../schemas/idempotency.schema.js';
import { DatasetRefSchema, ModelInputSchema } from '../jobs/jobs.schema.js';

export const SubmitSweepHeadersSchema = idempotencyHeadersSchema('sweep');

export const DEFAULT_MAX_TRIALS = 10;
export const DEFAULT_PARALLELISM = 2;
export const DEFAULT_SWEEP_SEED = 42;

const ObjectiveSchema = Type.Object(
  {
    metric: Type.Enum(SWEEP_METRICS, { description: "Per-epoch metric to optimise: 'valAccuracy', 'valLoss' (both need a validation set), 'accuracy' or 'loss'." }),
    goal: Type.Optional(Type.Enum(SWEEP_GOALS, { description: "'maximize' or 'minimize'. Default: maximize an accuracy, minimize a loss." })),
  },
  { additionalProperties: false, description: 'What makes a trial better: its metric at its last epoch.' },
);

export const SubmitSweepBodySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 180, description: 'A label for the sweep; its trial jobs are named "<name> trial <n>".' })),
    base: Type.Object(
      {
        model: ModelInputSchema,
        training: Type.Optional(TrainingSpecSchema),
        dataset: DatasetRefSchema,
      },
      {
        additionalProperties: false,
        description: 'The job every trial starts from, as in POST /v1/jobs; it must be a valid job on its own. Each trial sets its parameters into a copy of it.',
      },
    ),
    space: Type.Record(Type.String(), DistributionSchema, {
      minProperties: 1,
      maxProperties: MAX_SPACE_DIMENSIONS,
      ...expects(`an object mapping 1 to ${MAX_SPACE_DIMENSIONS} paths (e.g. "training.learningRate") to distributions`),
      description:
        'What to search: paths into the job (`training.<field>`, `model.<field>`, with `[n]` for a list item: `model.layers[0].filters`, ' +
        '`training.learningRateSchedule.warmupEpochs`; any field the model or training spec knows) mapped to distributions. Paths address the ' +
        'compact model (a Keras base is converted first); every value a distribution can give must be valid at its path.',
      examples: [{ 'training.learningRate': { logUniform: [0.0001, 0.01] }, 'model.layers[0].filters': { values: [16, 32, 64] } }],
    }),
    algorithm: Type.Enum(SWEEP_ALGORITHMS, {
      description:
        "'grid': every combination of the values (only `values` and `intUniform`), the last path in alphabetical order varying fastest; " +
        "'random': each trial drawn independently from the seed; 'tpe': Tree-structured Parzen Estimator, random for the first third " +
        'of the trials (3 to 10), then learning from finished trials. All are reproducible from `seed`.',
    }),
    objective: ObjectiveSchema,
    maxTrials: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_SWEEP_TRIALS,
        description: `Trials to run, 1 to ${MAX_SWEEP_TRIALS}. Default: the grid's size for grid, ${DEFAULT_MAX_TRIALS} otherwise (a grid runs at most its size).`,
      }),
    ),
    parallelism: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_SWEEP_PARALLELISM,
        description: `Trials queued or training at once, 1 to ${MAX_SWEEP_PARALLELISM}. Default ${DEFAULT_PARALLELISM}. The tenant's running-jobs quota still applies.`,
      }),
    ),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295, description: `Seed of the search (not of training). Default ${DEFAULT_SWEEP_SEED}.` })),
    earlyStopping: Type.Optional(
      Type.Object(
        {
          type: Type.Enum(['asha', 'median'] as const, {
            description:
              "'asha': asynchronous successive halving; at rungs of minEpochs × reductionFactor^k epochs a trial continues only if it is in the top " +
              "1/reductionFactor of the trials that reached that rung. 'median': after minEpochs, a trial stops when its best value is worse than " +
              'the median of the other trials\u2019 running averages at the same epoch (once minTrials others got there).',
          }),
          minEpochs: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 1000, description: `First rung (asha) or grace period (median), in epochs. Default ${ASHA_DEFAULTS.minEpochs}.` }),
          ),
          reductionFactor: Type.Optional(
            Type.Integer({ minimum: 2, maximum: 10, description: `asha only: rung spacing and the share kept. Default ${ASHA_DEFAULTS.reductionFactor}.` }),
          ),
          minTrials: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 100, description: `median only: other trials needed before it stops any. Default ${MEDIAN_DEFAULTS.minTrials}.` }),
          ),
        },
        {
          additionalProperties: false,
          description: 'Stop weak trials early. A stopped trial ends `succeeded` with the reason in its `stopReason`, and keeps its model.',
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        name: 'lr-and-width',
        base: { model: SEED_MNIST_MODEL, training: { epochs: 3, batchSize: 64 }, dataset: { id: 'mnist', limit: 3000 } },
        space: { 'training.learningRate': { logUniform: [0.0001, 0.01] }, 'model.layers[0].filters': { values: [16, 32, 64] } },
        algorithm: 'random',
        objective: { metric: 'valAccuracy', goal: 'maximize' },
        maxTrials: 12,
        parallelism: 2,
        seed: 1,
        earlyStopping: { type: 'asha', minEpochs: 1, reductionFactor: 3 },
      },
    ],
  },
);
export type SubmitSweepBody = Static<typeof SubmitSweepBodySchema>;

const ParamsSchema = Type.Record(Type.String(), Type.Unknown(), { description: 'The value of each searched path.' });

export const SweepTrialSchema = Type.Object({
  index: Type.Integer({ description: '0-based, in the order trials were created.' }),
  jobId: UuidSchema,
  params: ParamsSchema,
  status: Type.Enum([...JOB_STATUSES], { description: "The trial job's status." }),
  objective: Nullable(Type.Number({ description: 'The objective metric at the last epoch trained; null before the first.' })),
  epochs: Type.Integer({ description: 'Epochs trained so far.' }),
  stopReason: Nullable(Type.String({ description: 'Why it stopped before its last epoch (early stopping).' })),
  attempts: Type.Integer(),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
});

const BestSchema = Nullable(
  Type.Object(
    {
      trial: Type.Integer(),
      jobId: UuidSchema,
      modelId: Nullable(UuidSchema),
      params: ParamsSchema,
      objective: Type.Number(),
      epochs: Type.Integer(),
    },
    { description: 'The best succeeded trial so far by the objective (the earlier on a tie), and its model; null until one succeeded.' },
  ),
);

export const SweepSchema = Type.Object(
  {
    id: UuidSchema,
    name: Nullable(Type.String()),
    status: Type.Enum([...SWEEP_STATUSES], {
      description:
        'running: trials are being created or train. succeeded: every trial ended and at least one succeeded. failed: none succeeded ' +
        '(or a trial could not be built). cancelled: stopped on request; its unfinished trials are cancelled.',
    }),
    algorithm: Type.Enum(SWEEP_ALGORITHMS),
    objective: Type.Object({ metric: Type.Enum(SWEEP_METRICS), goal: Type.Enum(SWEEP_GOALS) }),
    space: Type.Record(Type.String(), DistributionSchema),
    maxTrials: Type.Integer(),
    parallelism: Type.Integer(),
    seed: Type.Integer(),
    earlyStopping: Nullable(
      Type.Object(
        {
          type: Type.Enum(['asha', 'median'] as const),
          minEpochs: Type.Integer(),
          reductionFactor: Type.Optional(Type.Integer()),
          minTrials: Type.Optional(Type.Integer()),
        },
        { description: 'With every default filled in.' },
      ),
    ),
    base: Type.Optional(
      Type.Object(
        { model: Type.Unknown({ description: 'The compact model spec.' }), training: Type.Unknown({ description: 'Training as submitted.' }), dataset: DatasetRefSchema },
        { description: 'The job the trials start from (GET /v1/sweeps/{id} only).' },
      ),
    ),
    progress: Type.Object(
      {
        trials: Type.Integer({ description: 'Trials created so far.' }),
        queued: Type.Integer(),
        running: Type.Integer({ description: 'Training, or stopping after a cancel.' }),
        succeeded: Type.Integer(),
        earlyStopped: Type.Integer({ description: 'Succeeded trials that early stopping ended before their last epoch.' }),
        failed: Type.Integer(),
        cancelled: Type.Integer(),
      },
      { description: 'How many trials are in each state.' },
    ),
    trials: Type.Optional(Type.Array(SweepTrialSchema, { description: 'Every trial, by index (not in lists).' })),
    best: BestSchema,
    error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    finishedAt: Nullable(Type.String({ format: 'date-time' })),
    links: Type.Object({ self: Type.String(), events: Type.String(), cancel: Type.String(), jobs: Type.String({ description: 'The trial jobs in the job list.' }) }),
  },
  { title: 'Sweep' },
);
export type SweepView = Static<typeof SweepSchema>;

export const SweepListSchema = Type.Object({ items: Type.Array(SweepSchema), nextCursor: Nullable(Type.String()) });

export const SweepListQuerySchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1-100).' }),
    cursor: Type.Optional(Type.String({ format: 'uuid', description: 'The `nextCursor` of the previous page.' })),
    status: Type.Optional(Type.Enum([...SWEEP_STATUSES], { description: 'Only sweeps in this status.' })),
  },
  { additionalProperties: false },
);
