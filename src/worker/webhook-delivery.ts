import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/config.js';
import { OutboundAddressError, resolvePublicAddress, type OutboundPolicy } from '../infra/outbound-address.js';
import { webhookHeaders } from '../infra/standard-webhooks.js';
import { createRedis } from '../queue/connection.js';
import type { JobOf } from '../queue/jobs.js';
import { createWebhookQueue, deliveryEntries, WEBHOOK_BACKOFF, webhookQueueJobId, webhookQueueName, type WebhookQueue } from '../queue/webhook-queue.js';
import { createDb, type Db } from '../storage/prisma.js';
import { claimOutbox, failDelivery, findDeliveryToAttempt, listOverdueDeliveries, recordAttempt, type AttemptOutcome } from '../storage/webhooks.repository.js';
import { sendWebhook, type SendResult } from './webhook-sender.js';
import type { Logger } from './worker.js';

/**
 * The webhook delivery process (`npm run webhooks`; `npm start` runs one).
 * It drains the outbox (delivery rows written with their events) into its
 * BullMQ queue, and sends each delivery: the URL checked again (a name that
 * now resolves to a private address is refused), the request made to the
 * address checked, signed anew at each attempt, retried with exponential
 * backoff until WEBHOOK_RETRY_FOR_MS after the event. Every attempt, and
 * the response it got, is recorded for GET /v1/webhooks/{id}/deliveries.
 *
 * Order: one process sends one endpoint's deliveries one at a time, in the
 * order of their events, so a healthy endpoint receives a job's events in
 * order. That holds while the endpoint has at most half of the process's
 * slots in hand: beyond that, later deliveries wait outside the process a
 * second and may be overtaken. A retried delivery arrives after later ones,
 * and several delivery processes do not coordinate: receivers that need
 * order use `eventId`.
 */

/** Longest wait between two attempts, whatever the doubling reaches. */
export const MAX_RETRY_DELAY_MS = 6 * 3_600_000;

/** Wait after the `attempt`-th failed attempt of a round (1-based): base, 2 × base, 4 × base... */
export function retryDelay(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
}

/** Thrown by the processor to have BullMQ try again after `delayMs` (the backoff strategy reads it). */
export class RetryLaterError extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryLaterError';
    Object.setPrototypeOf(this, RetryLaterError.prototype);
  }
}

/** Runs tasks with the same key one after another, in the order they came; counts those waiting per key. */
class KeyedSerializer {
  private readonly tails = new Map<string, { tail: Promise<void>; size: number }>();

  size(key: string): number {
    return this.tails.get(key)?.size ?? 0;
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const entry = this.tails.get(key) ?? { tail: Promise.resolve(), size: 0 };
    const result = entry.tail.then(work);
    entry.size += 1;
    entry.tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, entry);
    void entry.tail.then(() => {
      entry.size -= 1;
      if (entry.size === 0 && this.tails.get(key) === entry) this.tails.delete(key);
    });
    return result;
  }
}

export interface WebhookDeliveryOptions {
  /** How often the outbox is looked at (default 250 ms). */
  outboxIntervalMs?: number;
  /** How often overdue deliveries are checked against the queue (default a minute)... */
  repairIntervalMs?: number;
  /** ...and how late a delivery must be to be checked (default 5 minutes). */
  overdueMs?: number;
}

export interface WebhookDelivery {
  worker: Worker<JobOf<'deliver-webhook'>>;
  queue: WebhookQueue;
  /** Moves what the outbox holds into the queue now; returns how many deliveries it moved. */
  drainOutbox(): Promise<number>;
  /** Re-adds overdue deliveries whose queue entry is gone; returns how many. */
  repair(): Promise<number>;
  close(): Promise<void>;
}

const OUTBOX_BATCH = 200;
const QUEUE_TIMEOUT_MS = 5000;

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startWebhookDelivery(config: AppConfig, log: Logger, options: WebhookDeliveryOptions = {}): Promise<WebhookDelivery> {
  const queueName = webhookQueueName(config.QUEUE_NAME);
  const db: Db = createDb(config.DATABASE_URL, { poolSize: 4 });
  const connection: Redis = createRedis(config.REDIS_URL, 'worker');
  const producer: Redis = createRedis(config.REDIS_URL, 'worker');
  const queue = createWebhookQueue(queueName, producer);
  // While Redis is away every reconnect fails alike: one line per message a minute, not one per try.
  const lastSaid = new Map<string, number>();
  const redisTrouble = (what: string) => (err: Error) => {
    const key = `${what}: ${err.message}`;
    if (Date.now() - (lastSaid.get(key) ?? 0) < 60_000) return;
    lastSaid.set(key, Date.now());
    log.warn({ err: err.message }, what);
  };
  queue.on('error', redisTrouble('webhook queue error'));
  const policy: OutboundPolicy = { allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true', allowHttp: config.WEBHOOK_ALLOW_HTTP === 'true' };
  const endpoints = new KeyedSerializer();
  // A slow endpoint may hold at most half of the slots; its other deliveries wait outside the process meanwhile.
  const perEndpoint = Math.max(1, Math.floor(config.WEBHOOK_CONCURRENCY / 2));

  type Delivery = NonNullable<Awaited<ReturnType<typeof findDeliveryToAttempt>>>;

  async function attempt(delivery: Delivery, round: number): Promise<AttemptOutcome['status']> {
    const startedAt = new Date();
    const clock = performance.now();
    let result: SendResult;
    let address: string | null = null;
    let permanent = false;
    try {
      const target = await resolvePublicAddress(delivery.endpoint.url, policy);
      address = target.address;
      result = await sendWebhook({
        target,
        headers: webhookHeaders(delivery.endpoint.secret, delivery.messageId, delivery.body),
        body: delivery.body,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      });
    } catch (err) {
      if (!(err instanceof OutboundAddressError)) throw err;
      // A name that does not resolve may come back; a URL this server refuses will not.
      permanent = err.reason !== 'unresolved';
      result = { statusCode: null, responseBody: null, error: err.message, durationMs: Math.round(performance.now() - clock) };
    }
    const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const attemptOfRound = delivery._count.attempts + 1;
    const delayMs = retryDelay(config.WEBHOOK_RETRY_BASE_MS, attemptOfRound);
    const nextAttemptAt = new Date(Date.now() + delayMs);
    const outcome: AttemptOutcome = succeeded
      ? { status: 'succeeded' }
      : permanent || nextAttemptAt.getTime() > delivery.roundStartedAt.getTime() + config.WEBHOOK_RETRY_FOR_MS
        ? { status: 'failed' }
        : { status: 'pending', nextAttemptAt };
    await recordAttempt(
      db,
      delivery.id,
      { round, startedAt, durationMs: result.durationMs, address, statusCode: result.statusCode, responseBody: result.responseBody, error: result.error },
      outcome,
    );
    if (outcome.status === 'pending') {
      throw new RetryLaterError(delayMs, `attempt ${attemptOfRound} got ${result.statusCode ?? result.error}; retrying in ${delayMs} ms`);
    }
    return outcome.status;
  }

  /**
   * Which endpoint a delivery goes to is only known after a database read,
   * and reads finish in any order. So the reads run one after another, in the
   * order BullMQ hands entries to this process, and each delivery takes its
   * place in its endpoint's line before the next read starts: the line keeps
   * the queue's (the events') order. The wrapper object keeps the intake from
   * waiting for the send itself.
   */
  const intake = new KeyedSerializer();

  async function admit(job: Job<JobOf<'deliver-webhook'>>, token?: string): Promise<{ outcome: Promise<string> }> {
    const { deliveryId, round } = job.data;
    const delivery = await findDeliveryToAttempt(db, deliveryId, round);
    if (!delivery) return { outcome: Promise.resolve('gone') };
    if (delivery.round !== round || delivery.status !== 'pending') return { outcome: Promise.resolve('stale') };
    if (!delivery.endpoint.enabled) {
      await failDelivery(db, deliveryId, round, 'the endpoint is disabled');
      return { outcome: Promise.resolve('endpoint-disabled') };
    }
    if (endpoints.size(delivery.endpoint.id) >= perEndpoint && token) {
      await job.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    return { outcome: endpoints.run(delivery.endpoint.id, () => attempt(delivery, round)) };
  }

  async function deliver(job: Job<JobOf<'deliver-webhook'>>, token?: string): Promise<string> {
    const { outcome } = await intake.run('intake', () => admit(job, token));
    return outcome;
  }

  const worker = new Worker<JobOf<'deliver-webhook'>>(queueName, deliver, {
    connection,
    concurrency: config.WEBHOOK_CONCURRENCY,
    // A delivery process that dies mid-request leaves its entries stalled; they are taken again.
    maxStalledCount: 10,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string, err?: Error) => {
        if (err instanceof RetryLaterError) return err.delayMs;
        // Anything else (PostgreSQL away while recording) is retried on the same schedule.
        return type === WEBHOOK_BACKOFF ? retryDelay(config.WEBHOOK_RETRY_BASE_MS, attemptsMade) : -1;
      },
    },
  });
  worker.on('error', redisTrouble('webhook worker error'));
  worker.on('failed', (job, err) => {
    if (err instanceof RetryLaterError) return;
    log.warn({ deliveryId: job?.data.deliveryId, err: err.message }, 'a webhook delivery could not be processed; it will be retried');
  });

  let lastOutboxError = '';
  const drainOutbox = async (): Promise<number> => {
    let moved = 0;
    for (;;) {
      const entries = await claimOutbox(db, config.QUEUE_NAME, OUTBOX_BATCH, (batch) => withTimeout(queue.addBulk(deliveryEntries(batch)), QUEUE_TIMEOUT_MS, 'Redis'));
      moved += entries.length;
      if (entries.length < OUTBOX_BATCH) return moved;
    }
  };

  const repair = async (): Promise<number> => {
    const overdue = await listOverdueDeliveries(db, config.QUEUE_NAME, new Date(Date.now() - (options.overdueMs ?? 5 * 60_000)));
    let readded = 0;
    for (const entry of overdue) {
      const id = webhookQueueJobId(entry.deliveryId, entry.round);
      const job = await queue.getJob(id);
      const state = job ? await job.getState() : 'unknown';
      if (state !== 'unknown' && state !== 'failed' && state !== 'completed') continue;
      await job?.remove();
      await queue.add('deliver-webhook', entry, { jobId: id });
      readded += 1;
    }
    if (readded) log.warn({ deliveries: readded }, 're-queued webhook deliveries whose queue entry was lost');
    return readded;
  };

  let closing = false;
  let outboxTimer: NodeJS.Timeout | undefined;
  let draining: Promise<void> = Promise.resolve();
  const outboxLoop = () => {
    draining = drainAndLog().finally(() => {
      if (!closing) outboxTimer = setTimeout(outboxLoop, options.outboxIntervalMs ?? 250);
    });
  };
  const drainAndLog = async () => {
    try {
      await drainOutbox();
      if (lastOutboxError) log.info('webhook outbox drains again');
      lastOutboxError = '';
    } catch (err) {
      const message = (err as Error).message;
      // One line per kind of trouble, not one per tick while a dependency is away.
      if (message !== lastOutboxError) log.warn({ err: message }, 'could not move webhook deliveries into the queue yet; retrying');
      lastOutboxError = message;
    }
  };
  const repairTimer = setInterval(() => {
    repair().catch((err: Error) => log.warn({ err: err.message }, 'could not check overdue webhook deliveries'));
  }, options.repairIntervalMs ?? 60_000);
  repairTimer.unref();

  await worker.waitUntilReady();
  outboxLoop();

  return {
    worker,
    queue,
    drainOutbox,
    repair,
    async close() {
      closing = true;
      clearTimeout(outboxTimer);
      clearInterval(repairTimer);
      await draining;
      let timeout: NodeJS.Timeout | undefined;
      // In-flight requests end within WEBHOOK_TIMEOUT_MS; past the grace period their entries stall and are sent again.
      await Promise.race([
        worker.close(),
        new Promise<void>((resolve) => {
          timeout = setTimeout(() => resolve(worker.close(true)), config.SHUTDOWN_GRACE_MS);
        }),
      ]);
      clearTimeout(timeout);
      await queue.close().catch(() => undefined);
      await Promise.all([connection.quit(), producer.quit()].map((p) => p.catch(() => undefined)));
      await db.$disconnect();
    },
  };
}
