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

const ENQUEUE_TIMEOUT_MS = 3000;

/**
 * Idempotent: the queue job id is derived from the row id, so a second call
 * is a no-op. Fails after a few seconds rather than waiting for Redis forever.
 */
export async function enqueueTraining(queue: TrainQueue, payload: JobOf<'train'>) {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      queue.add(JobName.Train, payload, { jobId: trainQueueJobId(payload.jobId) }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
