import { Type, type Static } from 'typebox';
import { ModelSpecSchema } from '../model-spec/model-spec.schema.js';
import { TrainingSpecSchema, type NormalizedTrainingSpec } from '../model-spec/training-spec.schema.js';
import { NormalizedLearningRateScheduleSchema } from '../model-spec/learning-rate-schedule.schema.js';
import { NormalizedAugmentationSchema } from '../model-spec/augmentation.schema.js';
import { normalizeTrainingSpec } from '../model-spec/training-spec.normalizer.js';

/**
 * What POST /v1/jobs stores in `jobs.spec`, and what a worker trains from
 * (with the plan in `jobs.plan`) without planning or normalising again.
 */

/** The format of the document the API writes now; documents without `version` are {@link LegacyJobDocument}s. */
export const JOB_DOCUMENT_VERSION = 2;

const { loss, earlyStopping, maxWallTimeSeconds, learningRateSchedule, augmentation, ...defaulted } = TrainingSpecSchema.properties;

/**
 * Training settings as `normalizeTrainingSpec` returns them: every default
 * filled in. The fields, their bounds and descriptions are the submitted
 * schema's; only which of them are required differs.
 */
export const NormalizedTrainingSpecSchema = Type.Object(
  {
    ...Type.Required(Type.Object(defaulted)).properties,
    earlyStopping: Type.Optional(Type.Object(Type.Required(earlyStopping).properties, { additionalProperties: false })),
    maxWallTimeSeconds,
    loss,
    learningRateSchedule: Type.Optional(NormalizedLearningRateScheduleSchema),
    augmentation: Type.Optional(NormalizedAugmentationSchema),
  },
  { additionalProperties: false, title: 'NormalizedTrainingSpec' },
);

/** `true` when A and B are assignable both ways; `true satisfies SameType<A, B>` fails to compile when a schema and a hand-written type drift apart. */
export type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// The schema and the normaliser's return type describe one shape.
true satisfies SameType<Static<typeof NormalizedTrainingSpecSchema>, NormalizedTrainingSpec>;

export const JobDatasetSchema = Type.Object({ id: Type.String(), limit: Type.Optional(Type.Integer()) });

/**
 * The stored job document. The model is the compact spec (a submitted Keras
 * document is converted before it is stored); training has every default
 * filled in, so the worker trains with exactly what the API checked.
 */
export const JobDocumentSchema = Type.Object({
  version: Type.Literal(JOB_DOCUMENT_VERSION),
  model: ModelSpecSchema,
  training: NormalizedTrainingSpecSchema,
  dataset: JobDatasetSchema,
});
export type JobDocument = Static<typeof JobDocumentSchema>;

/**
 * A document written before training was stored normalised: no `version`,
 * training as submitted (defaults not filled in, possibly absent).
 */
export const LegacyJobDocumentSchema = Type.Object({
  model: ModelSpecSchema,
  training: Type.Optional(TrainingSpecSchema),
  dataset: JobDatasetSchema,
});
export type LegacyJobDocument = Static<typeof LegacyJobDocumentSchema>;

/** A `jobs.spec` value as read: the current document, or one written before it. */
export type StoredJobDocument = JobDocument | LegacyJobDocument;

export function isCurrentJobDocument(doc: StoredJobDocument): doc is JobDocument {
  return 'version' in doc && doc.version === JOB_DOCUMENT_VERSION;
}

/**
 * The document a worker trains from. Rows written before training was stored
 * normalised are normalised here, once per attempt, as the worker always did
 * for them; that is the only normalising left outside the API. A legacy
 * document is recognised by its missing `version`, not by its training
 * failing the normalised schema: a submission that set every defaulted field
 * passes that schema but may still lack the `loss` its model implies.
 * Throws SpecError when the old training no longer passes today's rules.
 * Remove once no row without `version` can still be trained.
 */
export function jobDocumentToTrain(doc: StoredJobDocument): JobDocument {
  if (isCurrentJobDocument(doc)) return doc;
  return { version: JOB_DOCUMENT_VERSION, model: doc.model, training: normalizeTrainingSpec(doc.training ?? {}, doc.model), dataset: doc.dataset };
}
