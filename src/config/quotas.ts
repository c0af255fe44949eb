import { Type, type Static } from 'typebox';
import type { AppConfig } from './config.js';

const limit = (description: string) => Type.Optional(Type.Integer({ minimum: 0, description }));

/**
 * A tenant's overrides of the server's default quotas (the `quotas` JSON of
 * its row): any subset, each a whole number of at least 0. Checked when
 * written (admin API) and when read.
 */
export const QuotaOverridesSchema = Type.Object(
  {
    runningJobs: limit('Jobs training at the same time; more wait in the queue without blocking other tenants.'),
    queuedJobs: limit('Jobs waiting (queued) at once; more are refused with 429.'),
    maxParams: limit('Parameters of one model.'),
    maxMacs: limit('Multiply-accumulates of one model per example.'),
    epochSamples: limit('Epochs × training examples of one job.'),
    artifactBytes: limit('Bytes of stored model artifacts.'),
    datasetBytes: limit('Bytes of stored uploaded datasets.'),
  },
  { additionalProperties: false, title: 'QuotaOverrides' },
);
export type QuotaOverrides = Static<typeof QuotaOverridesSchema>;

/** What one tenant may use: the server defaults with its overrides applied. */
export type Quotas = Required<QuotaOverrides>;

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

export function resolveQuotas(config: AppConfig, overrides: QuotaOverrides): Quotas {
  return { ...defaultQuotas(config), ...overrides };
}
