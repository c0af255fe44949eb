import { checkSchema, show } from './schema-check.js';
import { SpecError } from './spec-error.js';
import {
  LEARNING_RATE_SCHEDULE_SCHEMAS,
  LEARNING_RATE_SCHEDULE_TYPES,
  SCHEDULE_DEFAULTS,
  type LearningRateSchedule,
  type LearningRateScheduleType,
  type NormalizedLearningRateSchedule,
} from './learning-rate-schedule.schema.js';

const POINTER = '/learningRateSchedule';

/**
 * Checks a submitted schedule against the one variant its `type` names, so
 * that a mistake is reported against that variant's field rather than as
 * "matches none of four schemas". Throws SpecError.
 */
export function checkLearningRateSchedule(value: unknown): asserts value is LearningRateSchedule {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SpecError(`learningRateSchedule must be an object with a type (${LEARNING_RATE_SCHEDULE_TYPES.join(', ')}), got ${show(value)}`, {
      field: 'learningRateSchedule',
      path: POINTER,
    });
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !(LEARNING_RATE_SCHEDULE_TYPES as string[]).includes(type)) {
    const what = type === undefined ? 'is required' : `${show(type)} is not a known type`;
    throw new SpecError(`learningRateSchedule.type ${what}; allowed: ${LEARNING_RATE_SCHEDULE_TYPES.join(', ')}`, {
      field: 'learningRateSchedule.type',
      path: `${POINTER}/type`,
    });
  }
  checkSchema(LEARNING_RATE_SCHEDULE_SCHEMAS[type as LearningRateScheduleType], value, { pointer: POINTER });
}

/** The parts of the training settings a schedule is checked against. */
export interface ScheduleContext {
  learningRate: number;
  epochs: number;
  validationSplit: number;
}

function fieldError(name: string, message: string): SpecError {
  return new SpecError(`learningRateSchedule.${name} ${message}`, { field: `learningRateSchedule.${name}`, path: `${POINTER}/${name}` });
}

/**
 * Fills in the schedule's defaults and checks what its schema cannot: the
 * warm-up leaves epochs to decay over, a floor below the starting rate, and
 * a validation set for a monitored validation metric. Throws SpecError.
 */
export function normalizeLearningRateSchedule(schedule: LearningRateSchedule, training: ScheduleContext): NormalizedLearningRateSchedule {
  let normalized: NormalizedLearningRateSchedule;
  switch (schedule.type) {
    case 'step':
      normalized = { ...SCHEDULE_DEFAULTS.step, ...schedule };
      break;
    case 'exponential':
      normalized = { ...SCHEDULE_DEFAULTS.exponential, ...schedule };
      break;
    case 'cosine':
      normalized = { ...SCHEDULE_DEFAULTS.cosine, ...schedule };
      if (normalized.warmupEpochs >= training.epochs) {
        throw fieldError('warmupEpochs', `must be below epochs (${training.epochs}), to leave epochs after the warm-up; got ${normalized.warmupEpochs}`);
      }
      break;
    case 'reduceOnPlateau':
      normalized = { ...SCHEDULE_DEFAULTS.reduceOnPlateau, ...schedule };
      if (normalized.monitor.startsWith('val_') && training.validationSplit === 0) {
        throw fieldError('monitor', `'${normalized.monitor}' needs a validation set, but validationSplit is 0; monitor 'loss' or set validationSplit`);
      }
      break;
  }
  if ('minLearningRate' in normalized && normalized.minLearningRate >= training.learningRate) {
    throw fieldError('minLearningRate', `must be below learningRate (${training.learningRate}); got ${normalized.minLearningRate}`);
  }
  return normalized;
}
