import { Type, type Static } from 'typebox';
import type { Normalization } from '../data/normalization.js';
import { ModelSpecSchema, type ModelSpec } from '../model-spec/model-spec.schema.js';
import type { TrainedModel } from './prisma.js';
import { LineageSchema, Nullable } from './registry.schema.js';
import { readStoredJson } from './stored-json.js';

/**
 * Schemas of the JSON columns of `trained_models`, checked when a row is read
 * (`readModelRow`), so the code past the repository gets typed values.
 */

/** The `metrics` column: the final epoch's metrics and the held-out test evaluation. */
export const ModelMetricsSchema = Type.Object({
  epochs: Type.Integer(),
  loss: Nullable(Type.Number()),
  accuracy: Nullable(Type.Number()),
  valLoss: Nullable(Type.Number()),
  valAccuracy: Nullable(Type.Number()),
  testLoss: Nullable(Type.Number()),
  testAccuracy: Nullable(Type.Number()),
});
export type ModelMetrics = Static<typeof ModelMetricsSchema>;

/** The `engine` column (and `jobs.engine`): the engine that trained it; engines add fields of their own (SIMD, threads). */
export const EngineInfoSchema = LineageSchema.properties.engine;
export type StoredEngineInfo = Static<typeof EngineInfoSchema>;

/** Saved with a trained model (the `preprocessing` column) so that predict can replay what training saw. */
export const PreprocessingSchema = Type.Object({
  inputShape: Type.Array(Type.Integer({ minimum: 1 })),
  /** Range of raw input values the model was trained on. */
  valueRange: Type.Tuple([Type.Number(), Type.Number()]),
  /** 'logits' when the last layer has no softmax: predict applies it. */
  outputs: Type.Enum(['probabilities', 'logits']),
  /** Applied to raw inputs before the model (absent on models trained before normalisation existed: identity). */
  normalization: Type.Optional(Type.Object({ kind: Type.Enum(['scale', 'standardize', 'none']), offset: Type.Array(Type.Number()), scale: Type.Array(Type.Number()) })),
  /** For image models: predict accepts {"b64": PNG/JPEG}, decoded to this size, values multiplied by valueScale. */
  image: Type.Optional(Type.Union([Type.Object({ width: Type.Integer(), height: Type.Integer(), channels: Type.Integer(), valueScale: Type.Number() }), Type.Null()])),
});
export type Preprocessing = Static<typeof PreprocessingSchema> & { normalization?: Normalization };

export function readPreprocessing(json: unknown): Preprocessing {
  return readStoredJson(PreprocessingSchema, json, 'model preprocessing');
}

/** A trained model as the repositories hand it out: its JSON columns checked and typed. */
export type StoredModel = Omit<TrainedModel, 'spec' | 'metrics' | 'preprocessing' | 'engine'> & {
  /** The model spec it was trained from (the job document's compact spec). */
  spec: ModelSpec;
  metrics: ModelMetrics;
  preprocessing: Preprocessing;
  engine: StoredEngineInfo;
};

export function readModelRow(row: TrainedModel): StoredModel {
  return {
    ...row,
    spec: readStoredJson(ModelSpecSchema, row.spec, `spec of model ${row.id}`),
    metrics: readStoredJson(ModelMetricsSchema, row.metrics, `metrics of model ${row.id}`),
    preprocessing: readPreprocessing(row.preprocessing),
    engine: readStoredJson(EngineInfoSchema, row.engine, `engine of model ${row.id}`),
  };
}
