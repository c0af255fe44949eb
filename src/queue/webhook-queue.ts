import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobName, type JobOf } from './jobs.js';

/**
 * The queue of webhook deliveries: separate from training, so a burst of
 * deliveries never waits behind a training job nor the reverse. Its entries
 * come from the outbox (`webhook_deliveries` rows written with their
 * events); the delivery process sends them and decides about retries.
 */
export type WebhookQueue = Queue<JobOf<'deliver-webhook'>, unknown, 'deliver-webhook'>;

/** `<QUEUE_NAME>.webhooks`: tests, which give each run its own QUEUE_NAME, get their own webhook queue too. */
export function webhookQueueName(queueName: string): string {
  return `${queueName}.webhooks`;
}

/** One queue entry per delivery and round: adding the same round twice is one entry. */
export function webhookQueueJobId(deliveryId: string, round: number): string {
  return `delivery-${deliveryId}-${round}`;
}

/** The backoff strategy's name; the delivery worker supplies it (see `retryDelayOf`). */
export const WEBHOOK_BACKOFF = 'webhook';

/**
 * BullMQ's attempt budget of an entry. The delivery process ends a delivery
 * itself, by time (WEBHOOK_RETRY_FOR_MS); this only bounds entries that keep
 * failing for other reasons (PostgreSQL away).
 */
const QUEUE_ATTEMPTS = 1000;

export function createWebhookQueue(name: string, connection: Redis): WebhookQueue {
  return new Queue<JobOf<'deliver-webhook'>, unknown, 'deliver-webhook'>(name, {
    connection,
    defaultJobOptions: {
      attempts: QUEUE_ATTEMPTS,
      backoff: { type: WEBHOOK_BACKOFF },
      // Kept an hour, so that an entry added twice in that time (a drainer crash) is still recognised as one.
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}

export function deliveryEntries(entries: readonly JobOf<'deliver-webhook'>[]) {
  return entries.map((data) => ({ name: JobName.DeliverWebhook, data, opts: { jobId: webhookQueueJobId(data.deliveryId, data.round) } }));
}
