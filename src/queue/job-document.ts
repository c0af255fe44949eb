import { Type, type Static } from 'typebox';
import { ModelSpecSchema } from '../model-spec/model-spec.schema.js';
import { TrainingSpecSchema } from '../model-spec/training-spec.schema.js';

/**
 * What POST /v1/jobs stores in `jobs.spec`; a worker trains from it alone.
 * The model is the compact spec (a submitted Keras document is converted
 * before it is stored); training is as submitted, defaults not filled in.
 */
export const JobDocumentSchema = Type.Object({
  model: ModelSpecSchema,
  training: Type.Optional(TrainingSpecSchema),
  dataset: Type.Object({ id: Type.String(), limit: Type.Optional(Type.Integer()) }),
});
export type JobDocument = Static<typeof JobDocumentSchema>;
