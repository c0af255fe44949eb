import { Type, type Static } from 'typebox';
import { AugmentationSchema, type NormalizedAugmentation } from './augmentation.schema.js';
import { LearningRateScheduleSchema, MONITORED_METRICS, type NormalizedLearningRateSchedule } from './learning-rate-schedule.schema.js';

export const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const LOSSES = ['categoricalCrossentropy', 'meanSquaredError', 'binaryCrossentropy'] as const;
export type LossName = (typeof LOSSES)[number];

export const EARLY_STOPPING_MONITORS = MONITORED_METRICS;
export type EarlyStoppingMonitor = (typeof EARLY_STOPPING_MONITORS)[number];

/** Defaults filled in by {@link normalizeTrainingSpec} and advertised by the schema. */
export const TRAINING_DEFAULTS = {
  optimizer: 'adam',
  learningRate: 0.001,
  momentum: 0.9,
  epochs: 5,
  batchSize: 32,
  validationSplit: 0.1,
  testSplit: 0.1,
  seed: 42,
  normalization: 'scale',
} as const satisfies Record<string, unknown>;

/**
 * validationSplit + testSplit must stay below this, leaving at least 10% of
 * the data for training. Below 1 is not enough: the splitter (data/split.ts)
 * rounds each class's held-out counts, so 0.45 + 0.45 holds out all 10
 * examples of a class of 10. Below 0.9, every class of n >= 10 examples
 * keeps one for training: each of the two roundings adds at most 0.5, so
 * fewer than 0.9n + 1 <= n are held out.
 */
export const MAX_HELD_OUT_FRACTION = 0.9;

export const TrainingSpecSchema = Type.Object(
  {
    optimizer: Type.Optional(
      Type.Enum(OPTIMIZERS, {
        default: TRAINING_DEFAULTS.optimizer,
        description: "Gradient descent variant: 'sgd' (plain, as in the lesson), 'momentum', 'adam' or 'rmsprop'. Default 'adam'.",
      }),
    ),
    learningRate: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 10,
        default: TRAINING_DEFAULTS.learningRate,
        description: 'Step size, in (0, 10]. Default 0.001.',
      }),
    ),
    momentum: Type.Optional(
      Type.Number({
        minimum: 0,
        exclusiveMaximum: 1,
        default: TRAINING_DEFAULTS.momentum,
        description: "Momentum in [0, 1); used only by the 'momentum' optimizer. Default 0.9.",
      }),
    ),
    epochs: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        default: TRAINING_DEFAULTS.epochs,
        description: 'Passes over the training set, 1 to 1000. Default 5.',
      }),
    ),
    batchSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 4096,
        default: TRAINING_DEFAULTS.batchSize,
        description: 'Examples per gradient step, 1 to 4096. Default 32.',
      }),
    ),
    validationSplit: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 0.5,
        default: TRAINING_DEFAULTS.validationSplit,
        description: 'Fraction of the dataset held out to measure accuracy after each epoch, in [0, 0.5]. Default 0.1.',
      }),
    ),
    testSplit: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 0.5,
        default: TRAINING_DEFAULTS.testSplit,
        description: 'Fraction of the dataset held out for the final test accuracy, in [0, 0.5]. Default 0.1.',
      }),
    ),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4_294_967_295,
        default: TRAINING_DEFAULTS.seed,
        description: 'Seed for initial weights and data splits, so a run can be repeated. Default 42.',
      }),
    ),
    earlyStopping: Type.Optional(
      Type.Object(
        {
          monitor: Type.Optional(
            Type.Enum(EARLY_STOPPING_MONITORS, {
              default: 'val_loss',
              description: "Metric to watch after each epoch. Losses must fall, accuracies rise. Default 'val_loss'.",
            }),
          ),
          patience: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 1000,
              default: 2,
              description: 'Epochs without improvement tolerated before stopping. Default 2.',
            }),
          ),
          minDelta: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 1e6,
              default: 0,
              description: 'Smallest change that counts as an improvement. Default 0.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description: 'Stop before `epochs` when the monitored metric stops improving; the job then succeeds with the reason in `stopReason`.',
        },
      ),
    ),
    normalization: Type.Optional(
      Type.Enum(['scale', 'standardize', 'none'], {
        default: TRAINING_DEFAULTS.normalization,
        description:
          "How input values are transformed before training, and identically at predict: 'scale' maps the dataset's " +
          "[min, max] to [0, 1]; 'standardize' subtracts each channel's mean and divides by its standard deviation; " +
          "'none' trains on raw values. Default 'scale'.",
      }),
    ),
    maxWallTimeSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 30 * 24 * 3600,
        description: "Longest one training attempt may run; the job then fails with 'timeout'. Default: the server's JOB_MAX_WALL_TIME_SECONDS.",
      }),
    ),
    loss: Type.Optional(
      Type.Enum(LOSSES, {
        description:
          'Loss to minimise. Default from the model: a final softmax gives categoricalCrossentropy, a final ' +
          'sigmoid binaryCrossentropy; a linear output is treated as logits and trained with softmax cross-entropy.',
      }),
    ),
    learningRateSchedule: Type.Optional(LearningRateScheduleSchema),
    augmentation: Type.Optional(AugmentationSchema),
  },
  {
    additionalProperties: false,
    title: 'TrainingSpec',
    description: 'How to train the model. Every field is optional.',
  },
);

/** Training settings as submitted; optional fields take the documented defaults. */
export type TrainingSpec = Static<typeof TrainingSpecSchema>;

/**
 * Training settings with every default applied, as the worker uses them.
 * `loss` alone may stay unset: see `defaultLossFor` for why.
 */
export type NormalizedTrainingSpec = Required<Omit<TrainingSpec, 'loss' | 'earlyStopping' | 'maxWallTimeSeconds' | 'learningRateSchedule' | 'augmentation'>> &
  Pick<TrainingSpec, 'loss' | 'maxWallTimeSeconds'> & {
    earlyStopping?: { monitor: EarlyStoppingMonitor; patience: number; minDelta: number };
    learningRateSchedule?: NormalizedLearningRateSchedule;
    augmentation?: NormalizedAugmentation;
  };
