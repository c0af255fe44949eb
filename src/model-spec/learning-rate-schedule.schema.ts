import { Type, type Static, type TSchema } from 'typebox';
import { expects } from './schema-errors.js';

/** Metrics an epoch reports, which early stopping and reduceOnPlateau can watch. */
export const MONITORED_METRICS = ['val_loss', 'val_accuracy', 'loss', 'accuracy'] as const;
export type MonitoredMetric = (typeof MONITORED_METRICS)[number];

/** Defaults of each schedule's fields, filled in by the normaliser and advertised by the schemas. */
export const SCHEDULE_DEFAULTS = {
  step: { stepEpochs: 3, factor: 0.5 },
  exponential: { factor: 0.9 },
  cosine: { warmupEpochs: 0, minLearningRate: 0 },
  reduceOnPlateau: { monitor: 'val_loss', factor: 0.1, patience: 2, minDelta: 0.0001, cooldown: 0, minLearningRate: 0 },
} as const;

const scheduleType = <T extends string>(type: T, description: string) => Type.Literal(type, { description });

const factor = (fallback: number, what: string) =>
  Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: fallback, description: `${what}, in (0, 1). Default ${fallback}.` }));

const minLearningRate = () =>
  Type.Optional(Type.Number({ minimum: 0, maximum: 10, default: 0, description: 'The rate never goes below this; must be below `training.learningRate`. Default 0.' }));

export const StepScheduleSchema = Type.Object(
  {
    type: scheduleType('step', 'Multiply the rate by `factor` every `stepEpochs` epochs.'),
    stepEpochs: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, default: SCHEDULE_DEFAULTS.step.stepEpochs, description: 'Epochs between two steps, 1 to 1000. Default 3.' }),
    ),
    factor: factor(SCHEDULE_DEFAULTS.step.factor, 'What each step multiplies the rate by'),
  },
  { additionalProperties: false, title: 'StepSchedule', description: 'Epoch e (1-based) trains at learningRate · factor^floor((e − 1) / stepEpochs).' },
);

export const ExponentialScheduleSchema = Type.Object(
  {
    type: scheduleType('exponential', 'Multiply the rate by `factor` after every epoch.'),
    factor: factor(SCHEDULE_DEFAULTS.exponential.factor, 'What each epoch multiplies the rate by'),
  },
  { additionalProperties: false, title: 'ExponentialSchedule', description: 'Epoch e (1-based) trains at learningRate · factor^(e − 1).' },
);

export const CosineScheduleSchema = Type.Object(
  {
    type: scheduleType('cosine', 'Cosine decay from learningRate to minLearningRate over the epochs, after an optional linear warm-up.'),
    warmupEpochs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: SCHEDULE_DEFAULTS.cosine.warmupEpochs,
        description:
          'Epochs of linear warm-up, below `training.epochs`: the rate rises batch by batch from learningRate / (warm-up batches) to ' +
          'learningRate at the last batch of the warm-up. Default 0.',
      }),
    ),
    minLearningRate: minLearningRate(),
  },
  {
    additionalProperties: false,
    title: 'CosineSchedule',
    description:
      'After the warm-up of w epochs, epoch e (1-based) of E trains at minLearningRate + (learningRate − minLearningRate) · ' +
      '(1 + cos(π · (e − w − 1) / (E − w))) / 2: the first epoch after warm-up at learningRate, each next one lower.',
  },
);

export const ReduceOnPlateauScheduleSchema = Type.Object(
  {
    type: scheduleType('reduceOnPlateau', 'Multiply the rate by `factor` when the monitored metric stops improving.'),
    monitor: Type.Optional(
      Type.Enum(MONITORED_METRICS, {
        default: SCHEDULE_DEFAULTS.reduceOnPlateau.monitor,
        description: "Metric to watch after each epoch; losses must fall, accuracies rise. Default 'val_loss'.",
      }),
    ),
    factor: factor(SCHEDULE_DEFAULTS.reduceOnPlateau.factor, 'What each reduction multiplies the rate by'),
    patience: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: SCHEDULE_DEFAULTS.reduceOnPlateau.patience,
        description: 'Epochs without improvement tolerated; the next one without improvement reduces the rate (0: the first one does). Default 2.',
      }),
    ),
    minDelta: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1e6, default: SCHEDULE_DEFAULTS.reduceOnPlateau.minDelta, description: 'Smallest change that counts as an improvement. Default 0.0001.' }),
    ),
    cooldown: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: SCHEDULE_DEFAULTS.reduceOnPlateau.cooldown,
        description: 'Epochs after a reduction during which no epoch counts against patience. Default 0.',
      }),
    ),
    minLearningRate: minLearningRate(),
  },
  {
    additionalProperties: false,
    title: 'ReduceOnPlateauSchedule',
    description:
      "As PyTorch's ReduceLROnPlateau: after each epoch the monitored metric is compared with its best so far (better by more than " +
      'minDelta, or not); after more than `patience` epochs without improvement the rate is multiplied by `factor`, not below minLearningRate.',
  },
);

/** Every schedule's schema by `type`; the order is the schema's `oneOf` order. */
export const LEARNING_RATE_SCHEDULE_SCHEMAS = {
  step: StepScheduleSchema,
  exponential: ExponentialScheduleSchema,
  cosine: CosineScheduleSchema,
  reduceOnPlateau: ReduceOnPlateauScheduleSchema,
} as const;

export type LearningRateScheduleType = keyof typeof LEARNING_RATE_SCHEDULE_SCHEMAS;
export const LEARNING_RATE_SCHEDULE_TYPES = Object.keys(LEARNING_RATE_SCHEDULE_SCHEMAS) as LearningRateScheduleType[];

/** A schedule as submitted: `type` and any of its fields. */
export type LearningRateSchedule = { [T in LearningRateScheduleType]: Static<(typeof LEARNING_RATE_SCHEDULE_SCHEMAS)[T]> }[LearningRateScheduleType];

/** A schedule with every field filled in, as stored and trained from. */
export type NormalizedLearningRateSchedule = { [T in LearningRateScheduleType]: Required<Static<(typeof LEARNING_RATE_SCHEDULE_SCHEMAS)[T]>> }[LearningRateScheduleType];

/**
 * A union as `oneOf` + `discriminator` (as the layers are): the API's
 * validator then checks only the variant `type` names, so an error points at
 * that variant's field.
 */
function scheduleUnion<T>(variants: TSchema[], extra: object = {}) {
  return Type.Unsafe<T>({
    type: 'object',
    ...extra,
    description:
      'How the learning rate changes during training: `step`, `exponential`, `cosine` (with an optional warm-up) or `reduceOnPlateau`. ' +
      "Without it the rate stays at `learningRate`. Each epoch's rate is shown with its metrics.",
    oneOf: variants,
    discriminator: { propertyName: 'type' },
  });
}

export const LearningRateScheduleSchema = scheduleUnion<LearningRateSchedule>(Object.values(LEARNING_RATE_SCHEDULE_SCHEMAS));

/** The stored form: each variant with every field required (Type.Required keeps the properties only: additionalProperties is set again). */
export const NormalizedLearningRateScheduleSchema = scheduleUnion<NormalizedLearningRateSchedule>(
  Object.values(LEARNING_RATE_SCHEDULE_SCHEMAS).map((s) => Type.Object(Type.Required(s).properties, { additionalProperties: false })),
  { title: 'NormalizedLearningRateSchedule', ...expects(`one of the schedules (${LEARNING_RATE_SCHEDULE_TYPES.join(', ')}) with every field filled in`) },
);
