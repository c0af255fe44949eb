import { finalActivation } from './final-activation.js';
import type { ModelSpec } from './model-spec.schema.js';
import type { NormalizedModelSpec } from './model-spec.normalizer.js';
import { checkSchema } from './schema-check.js';
import { SpecError } from './spec-error.js';
import { AUGMENTATION_DEFAULTS } from './augmentation.schema.js';
import { checkLearningRateSchedule, normalizeLearningRateSchedule } from './learning-rate-schedule.normalizer.js';
import { MAX_HELD_OUT_FRACTION, TRAINING_DEFAULTS, TrainingSpecSchema, type LossName, type NormalizedTrainingSpec, type TrainingSpec } from './training-spec.schema.js';

/**
 * The loss the model's output calls for, when its last activation decides
 * it: softmax → categoricalCrossentropy, sigmoid → binaryCrossentropy.
 * Otherwise undefined: a linear output is logits (as in the lesson), and
 * tfjs offers no named loss for logits, so the trainer picks one (softmax
 * cross-entropy on logits) rather than this module guessing a wrong name.
 */
export function defaultLossFor(model: ModelSpec | NormalizedModelSpec): LossName | undefined {
  const activation = finalActivation(model);
  if (activation === 'softmax') return 'categoricalCrossentropy';
  if (activation === 'sigmoid') return 'binaryCrossentropy';
  return undefined;
}

/**
 * Validates training settings (typed, or raw JSON from storage) and fills in
 * every default. `loss` stays unset unless the user chose one or `model`
 * decides it (see {@link defaultLossFor}). Throws SpecError on the first problem.
 */
export function normalizeTrainingSpec(raw: unknown = {}, model?: ModelSpec | NormalizedModelSpec): NormalizedTrainingSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError('the training spec must be a JSON object', { path: '' });
  }
  // The schedule is a union: checked first against the variant its type names, for a message about that variant.
  const schedule = (raw as { learningRateSchedule?: unknown }).learningRateSchedule;
  if (schedule !== undefined) checkLearningRateSchedule(schedule);
  checkSchema(TrainingSpecSchema, raw, { pointer: '' });
  const spec = raw as Partial<NormalizedTrainingSpec>;
  const d = TRAINING_DEFAULTS;
  const normalized: NormalizedTrainingSpec = {
    optimizer: spec.optimizer ?? d.optimizer,
    learningRate: spec.learningRate ?? d.learningRate,
    momentum: spec.momentum ?? d.momentum,
    epochs: spec.epochs ?? d.epochs,
    batchSize: spec.batchSize ?? d.batchSize,
    validationSplit: spec.validationSplit ?? d.validationSplit,
    testSplit: spec.testSplit ?? d.testSplit,
    seed: spec.seed ?? d.seed,
    normalization: spec.normalization ?? d.normalization,
  };
  if (spec.maxWallTimeSeconds !== undefined) normalized.maxWallTimeSeconds = spec.maxWallTimeSeconds;
  const early = (raw as TrainingSpec).earlyStopping;
  if (early) {
    normalized.earlyStopping = { monitor: early.monitor ?? 'val_loss', patience: early.patience ?? 2, minDelta: early.minDelta ?? 0 };
    if (normalized.earlyStopping.monitor.startsWith('val_') && normalized.validationSplit === 0) {
      throw new SpecError(`earlyStopping.monitor '${normalized.earlyStopping.monitor}' needs a validation set, but validationSplit is 0; monitor 'loss' or set validationSplit`, {
        field: 'earlyStopping.monitor',
        path: '/earlyStopping/monitor',
      });
    }
  }
  const { learningRateSchedule, augmentation } = raw as TrainingSpec;
  if (learningRateSchedule) normalized.learningRateSchedule = normalizeLearningRateSchedule(learningRateSchedule, normalized);
  if (augmentation) normalized.augmentation = { ...AUGMENTATION_DEFAULTS, ...augmentation };
  const loss = spec.loss ?? (model === undefined ? undefined : defaultLossFor(model));
  if (loss !== undefined) normalized.loss = loss;
  // Each split alone is capped at 0.5 by the schema; only together can they
  // leave too little to train on.
  if (normalized.validationSplit + normalized.testSplit >= MAX_HELD_OUT_FRACTION) {
    throw new SpecError(
      `validationSplit + testSplit must be below ${MAX_HELD_OUT_FRACTION}, to leave at least ` +
        `${Math.round((1 - MAX_HELD_OUT_FRACTION) * 100)}% of the data for training; got ` +
        `${normalized.validationSplit} + ${normalized.testSplit}`,
      { field: 'testSplit', path: '/testSplit' },
    );
  }
  return normalized;
}
