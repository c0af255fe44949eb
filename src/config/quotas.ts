import type { AppConfig } from './config.js';

/** What one tenant may use. Server defaults come from config; a tenant row's `quotas` JSON overrides any of them. */
export interface Quotas {
  /** Jobs training at the same time; more wait in the queue without blocking other tenants. */
  runningJobs: number;
  /** Jobs waiting (queued) at once; more are refused with 429. */
  queuedJobs: number;
  maxParams: number;
  maxMacs: number;
  /** epochs × training examples of one job. */
  epochSamples: number;
  artifactBytes: number;
  datasetBytes: number;
}

export function defaultQuotas(config: AppConfig): Quotas {
  return {
    runningJobs: config.QUOTA_RUNNING_JOBS,
    queuedJobs: config.QUOTA_QUEUED_JOBS,
    maxParams: config.QUOTA_MODEL_PARAMS,
    maxMacs: config.QUOTA_MODEL_MACS,
    epochSamples: config.QUOTA_EPOCH_SAMPLES,
    artifactBytes: config.QUOTA_ARTIFACT_BYTES,
    datasetBytes: config.QUOTA_DATASET_BYTES,
  };
}

export function resolveQuotas(config: AppConfig, overrides: unknown): Quotas {
  const quotas = defaultQuotas(config);
  if (overrides && typeof overrides === 'object') {
    for (const [k, v] of Object.entries(overrides)) {
      if (k in quotas && typeof v === 'number' && Number.isFinite(v) && v >= 0) quotas[k as keyof Quotas] = v;
    }
  }
  return quotas;
}
