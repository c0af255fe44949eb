import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobName, trainQueueJobId, type JobOf } from './jobs.js';

export type TrainQueue = Queue<JobOf<'train'>, unknown, 'train'>;

export function createTrainQueue(name: string, connection: Redis, attempts: number): TrainQueue {
  return new Queue<JobOf<'train'>, unknown, 'train'>(name, {
    connection,
    defaultJobOptions: {
      attempts,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  });
}

/** Idempotent: the queue job id is derived from the row id, so a second call is a no-op. */
export function enqueueTraining(queue: TrainQueue, payload: JobOf<'train'>) {
  return queue.add(JobName.Train, payload, { jobId: trainQueueJobId(payload.jobId) });
}
