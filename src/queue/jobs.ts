/**
 * The contract between the API (producer) and workers (consumers): queue job
 * names and their payloads. Both sides import this module and nothing else of
 * each other.
 */
export const JobName = {
  Train: 'train',
  DeliverWebhook: 'deliver-webhook',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

export interface JobPayloads {
  /** Train the job row `jobId`; everything else is read from Postgres. */
  [JobName.Train]: { jobId: string; tenantId: string };
  /** Send round `round` of the webhook delivery row `deliveryId` (webhook queue); an entry of an earlier round does nothing. */
  [JobName.DeliverWebhook]: { deliveryId: string; round: number };
}

export type JobOf<N extends JobName> = JobPayloads[N];

/** BullMQ job id for a training job: one queue entry per job row, so re-enqueueing is idempotent. */
export function trainQueueJobId(jobId: string): string {
  return `train-${jobId}`;
}

/** Progress payload published with job.updateProgress; readable by any process via QueueEvents. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batchesPerEpoch: number;
  /** Only on the report that ends an epoch: its wall time, for the worker's metrics. */
  epochSeconds?: number;
  /** Only on the report that ends an epoch: training examples it went through. */
  epochSamples?: number;
}
