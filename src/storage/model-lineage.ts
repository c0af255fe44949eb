import { createHash } from 'node:crypto';
import type { Job, TrainedModel } from './prisma.js';
import { readStoredJson } from './stored-json.js';
import { LineageSchema, type Lineage } from './registry.schema.js';
import { readJobDocument } from './job.schema.js';
import { EngineInfoSchema, ModelMetricsSchema } from './model.schema.js';
import { canonicalJson } from '../infra/canonical-json.js';

export function specHash(modelSpec: unknown): string {
  return createHash('sha256').update(canonicalJson(modelSpec)).digest('hex');
}

/**
 * Lineage of a trained model, from its job row and its own row. The caller
 * supplies the dataset's content hash (an upload's `contentHash`, or the
 * built-in data's hash: see src/data/datasets.ts), or null when the dataset is gone.
 */
export function buildLineage(job: Job, model: TrainedModel, datasetContentHash: string | null): Lineage {
  const doc = readJobDocument(job.spec, job.id);
  return {
    jobId: job.id,
    specHash: specHash(doc.model),
    datasetId: job.datasetId,
    datasetLimit: doc.dataset.limit ?? null,
    datasetContentHash,
    hyperparameters: doc.training ?? {},
    metrics: readStoredJson(ModelMetricsSchema, model.metrics, `metrics of model ${model.id}`),
    engine: readStoredJson(EngineInfoSchema, model.engine, `engine of model ${model.id}`),
    modelCreatedAt: model.createdAt.toISOString(),
  };
}

export function readLineage(value: unknown, where: string): Lineage {
  return readStoredJson(LineageSchema, value, `lineage of ${where}`);
}
