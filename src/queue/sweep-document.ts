import { Type, type Static } from 'typebox';
import { ModelSpecSchema } from '../model-spec/model-spec.schema.js';
import { TrainingSpecSchema } from '../model-spec/training-spec.schema.js';
import { expects } from '../model-spec/schema-errors.js';
import { JobDatasetSchema } from './job-document.js';

/**
 * What POST /v1/sweeps stores in `sweeps.spec`: the sweep's definition with
 * every default filled in. The API writes it once; the sweep controller
 * (src/sweep, run by any worker) reads it to create trials and to judge
 * them, so it is part of the contract between the two.
 */

export const SWEEP_ALGORITHMS = ['grid', 'random', 'tpe'] as const;
export type SweepAlgorithm = (typeof SWEEP_ALGORITHMS)[number];

/** Per-epoch metrics a sweep can optimise: what every epoch of a trial records. */
export const SWEEP_METRICS = ['valAccuracy', 'valLoss', 'accuracy', 'loss'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

export const SWEEP_GOALS = ['maximize', 'minimize'] as const;
export type SweepGoal = (typeof SWEEP_GOALS)[number];

export const MAX_SWEEP_TRIALS = 200;
export const MAX_SWEEP_PARALLELISM = 32;
export const MAX_SPACE_DIMENSIONS = 20;
export const MAX_DISTRIBUTION_VALUES = 100;

export const DISTRIBUTION_WORDS = '{"uniform": [low, high]}, {"logUniform": [low, high]}, {"intUniform": [low, high]} or {"values": [...]}';

/**
 * One searched field's distribution: exactly one of the four keys. Ranges
 * are closed, [low, high] with low < high.
 */
export const DistributionSchema = Type.Object(
  {
    uniform: Type.Optional(Type.Tuple([Type.Number(), Type.Number()], { description: 'Any number in [low, high], uniformly.' })),
    logUniform: Type.Optional(
      Type.Tuple([Type.Number(), Type.Number()], {
        description: 'Any number in [low, high] (0 < low), uniformly on a log scale: as many draws in [1e-4, 1e-3] as in [1e-3, 1e-2].',
      }),
    ),
    intUniform: Type.Optional(Type.Tuple([Type.Integer(), Type.Integer()], { description: 'An integer in [low, high], each equally likely.' })),
    values: Type.Optional(
      Type.Array(Type.Unknown(), {
        minItems: 1,
        maxItems: MAX_DISTRIBUTION_VALUES,
        description: `One of these values (1 to ${MAX_DISTRIBUTION_VALUES}, distinct): numbers, strings, booleans, or objects for a field that takes one.`,
      }),
    ),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    ...expects(DISTRIBUTION_WORDS),
    title: 'Distribution',
    description: 'Where a searched field takes its values from: exactly one of `uniform`, `logUniform`, `intUniform` or `values`.',
  },
);
export type Distribution = Static<typeof DistributionSchema>;

/** A searched field: its path in the job (`training.learningRate`, `model.layers[0].filters`) and its distribution. */
export const SweepDimensionSchema = Type.Object({ path: Type.String(), distribution: DistributionSchema }, { additionalProperties: false });
export type SweepDimension = Static<typeof SweepDimensionSchema>;

export const ASHA_DEFAULTS = { minEpochs: 1, reductionFactor: 3 } as const;
export const MEDIAN_DEFAULTS = { minEpochs: 1, minTrials: 3 } as const;

/** Early stopping of weak trials, defaults filled in. */
export const SweepEarlyStoppingSchema = Type.Union([
  Type.Object({ type: Type.Literal('asha'), minEpochs: Type.Integer({ minimum: 1 }), reductionFactor: Type.Integer({ minimum: 2 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('median'), minEpochs: Type.Integer({ minimum: 1 }), minTrials: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
]);
export type SweepEarlyStopping = Static<typeof SweepEarlyStoppingSchema>;

export const SWEEP_DOCUMENT_VERSION = 1;

export const SweepDocumentSchema = Type.Object(
  {
    version: Type.Literal(SWEEP_DOCUMENT_VERSION),
    /**
     * The job every trial starts from: the model in the compact spec (a Keras
     * document is converted first), training as submitted (each trial's is
     * normalised after its parameters are set, so defaults that depend on the
     * model follow it), and the dataset.
     */
    base: Type.Object({ model: ModelSpecSchema, training: TrainingSpecSchema, dataset: JobDatasetSchema }, { additionalProperties: false }),
    /** In the alphabetical order of the paths: the order grid points and samples are drawn in. */
    space: Type.Array(SweepDimensionSchema, { minItems: 1 }),
    algorithm: Type.Enum(SWEEP_ALGORITHMS),
    objective: Type.Object({ metric: Type.Enum(SWEEP_METRICS), goal: Type.Enum(SWEEP_GOALS) }, { additionalProperties: false }),
    maxTrials: Type.Integer({ minimum: 1 }),
    parallelism: Type.Integer({ minimum: 1 }),
    seed: Type.Integer({ minimum: 0 }),
    earlyStopping: Type.Union([SweepEarlyStoppingSchema, Type.Null()]),
  },
  { additionalProperties: false },
);
export type SweepDocument = Static<typeof SweepDocumentSchema>;
