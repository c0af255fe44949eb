import type { ModelSpec, TrainingSpec } from '../spec/index.js';

/** What POST /v1/jobs stores in `jobs.spec`; a worker trains from it alone. */
export interface JobDocument {
  model: ModelSpec;
  training?: TrainingSpec;
  dataset: { id: string; limit?: number };
}
