import { normalizeTrainingSpec, planModel, type ModelSpec, type TrainingSpec } from '../../src/model-spec/index.js';
import { JOB_DOCUMENT_VERSION } from '../../src/queue/job-document.js';
import type { NewJob } from '../../src/storage/jobs.repository.js';

/**
 * The stored fields of a job as POST /v1/jobs writes them for this model,
 * training and dataset (document with training normalised, plan, dataset id,
 * epochs), for tests that write job rows through the repository themselves.
 */
export function storedJobFields(
  model: object,
  training: object = {},
  dataset: { id: string; limit?: number } = { id: 'mnist' },
): Pick<NewJob, 'spec' | 'plan' | 'datasetId' | 'epochs'> {
  const spec = model as ModelSpec;
  const normalized = normalizeTrainingSpec(training as TrainingSpec, spec);
  return {
    spec: { version: JOB_DOCUMENT_VERSION, model: spec, training: normalized, dataset },
    plan: planModel(spec),
    datasetId: dataset.id,
    epochs: normalized.epochs,
  };
}
