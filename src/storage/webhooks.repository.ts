import { randomUUID } from 'node:crypto';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from './generated/prisma/client.js';
import { Prisma, type Db } from './prisma.js';
import { readStoredJson } from './stored-json.js';
import { isWebhookEventType, WebhookMessageSchema, type WebhookEventType, type WebhookMessage } from './webhook.schema.js';

/**
 * Webhook endpoints, and the deliveries of events to them.
 *
 * Deliveries are written by `emitWebhookEvent` inside the transaction that
 * records their event (a job's state change or epoch, a model version): the
 * table is an outbox. A delivery process drains it into its BullMQ queue
 * (`claimOutbox`), so neither API nor worker needs Redis to emit, no event
 * is lost while Redis is away, and none is sent for a change that rolled
 * back. Misses return null; routes decide what that means.
 */

type Tx = Prisma.TransactionClient;

export type WebhookDeliveryStatus = WebhookDelivery['status'];
export type { WebhookEndpoint };

/** Endpoints one tenant may have: each event is written once per subscribed endpoint. */
export const MAX_WEBHOOK_ENDPOINTS_PER_TENANT = 20;

export interface NewWebhookEndpoint {
  tenantId: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  enabled: boolean;
  secret: string;
  queueName: string;
}

/**
 * Creates an endpoint unless the tenant already has the most it may
 * (`{ limit }` then); an advisory lock makes the count and the insert atomic.
 */
export async function createWebhookEndpoint(db: Db, endpoint: NewWebhookEndpoint): Promise<{ created: WebhookEndpoint } | { limit: number }> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`webhooks:${endpoint.tenantId}`}))`;
    const count = await tx.webhookEndpoint.count({ where: { tenantId: endpoint.tenantId } });
    if (count >= MAX_WEBHOOK_ENDPOINTS_PER_TENANT) return { limit: MAX_WEBHOOK_ENDPOINTS_PER_TENANT };
    return { created: await tx.webhookEndpoint.create({ data: endpoint }) };
  });
}

export function findWebhookEndpoint(db: Db, tenantId: string, id: string): Promise<WebhookEndpoint | null> {
  return db.webhookEndpoint.findFirst({ where: { id, tenantId } });
}

/** Newest first; `cursor` is the id of the last endpoint of the previous page. */
export async function listWebhookEndpoints(db: Db, tenantId: string, { limit, cursor }: { limit: number; cursor?: string }) {
  const rows = await db.webhookEndpoint.findMany({
    where: { tenantId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
}

export type WebhookEndpointChange = Partial<Pick<WebhookEndpoint, 'url' | 'description' | 'enabled' | 'secret'>> & { events?: WebhookEventType[] };

export async function updateWebhookEndpoint(db: Db, tenantId: string, id: string, change: WebhookEndpointChange): Promise<WebhookEndpoint | null> {
  const { count } = await db.webhookEndpoint.updateMany({ where: { id, tenantId }, data: change });
  return count === 0 ? null : findWebhookEndpoint(db, tenantId, id);
}

/** Deletes the endpoint with its deliveries (queue entries left behind find nothing and do nothing). */
export async function deleteWebhookEndpoint(db: Db, tenantId: string, id: string): Promise<boolean> {
  return (await db.webhookEndpoint.deleteMany({ where: { id, tenantId } })).count > 0;
}

// ---- emitting: inside the transaction of the event ----

type MessageData = Record<string, unknown>;

/**
 * Writes one delivery of the event per enabled endpoint of the tenant that
 * subscribed to its type. One message id (`webhook-id`) for all of them.
 * `data` may be a function, for messages that take queries to compose: it
 * runs only when some endpoint subscribed. Returns how many were written.
 */
export async function emitWebhookEvent(tx: Tx, event: { tenantId: string; type: WebhookEventType; data: MessageData | (() => Promise<MessageData>); at: Date }): Promise<number> {
  const endpoints = await tx.webhookEndpoint.findMany({
    where: { tenantId: event.tenantId, enabled: true, events: { has: event.type } },
    select: { id: true, queueName: true },
    orderBy: { createdAt: 'asc' },
  });
  if (endpoints.length === 0) return 0;
  const data = typeof event.data === 'function' ? await event.data() : event.data;
  const message: WebhookMessage = { type: event.type, timestamp: event.at.toISOString(), data };
  const body = JSON.stringify(message);
  const messageId = `msg_${randomUUID().replaceAll('-', '')}`;
  await tx.webhookDelivery.createMany({
    data: endpoints.map((e) => ({ endpointId: e.id, tenantId: event.tenantId, queueName: e.queueName, messageId, eventType: event.type, body, nextAttemptAt: event.at })),
  });
  return endpoints.length;
}

/**
 * The webhook deliveries of a job event just written in `tx`: `job.<status>`
 * for a state change, `job.epoch` for an epoch's metrics. The message names
 * the job and carries the event's id (what the job's event stream calls it).
 */
export async function emitJobEventWebhooks(tx: Tx, row: { id: bigint; jobId: string; type: string; data: unknown; createdAt: Date }): Promise<number> {
  // Read leniently: an event's webhooks must never be what fails the change it records.
  const data = row.data !== null && typeof row.data === 'object' && !Array.isArray(row.data) ? (row.data as Record<string, unknown>) : {};
  const type = row.type === 'metrics' ? 'job.epoch' : row.type === 'state' ? `job.${String(data.status)}` : '';
  if (!isWebhookEventType(type)) return 0;
  const job = await tx.job.findUnique({ where: { id: row.jobId }, select: { tenantId: true, name: true, epochs: true } });
  if (!job) return 0;
  const common = { jobId: row.jobId, jobName: job.name, eventId: String(row.id), ...(type === 'job.epoch' ? { epochs: job.epochs } : {}) };
  return emitWebhookEvent(tx, { tenantId: job.tenantId, type, data: { ...common, ...data }, at: row.createdAt });
}

// ---- reading, for the API ----

export type WebhookDeliveryWithAttempts = Omit<WebhookDelivery, 'body'> & { message: WebhookMessage; attempts: WebhookAttempt[] };

function withMessage(row: WebhookDelivery & { attempts: WebhookAttempt[] }): WebhookDeliveryWithAttempts {
  const { body, ...rest } = row;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = body;
  }
  return { ...rest, message: readStoredJson(WebhookMessageSchema, parsed, `body of webhook delivery ${row.id}`) };
}

const attemptsAscending = { attempts: { orderBy: { attempt: 'asc' } } } satisfies Prisma.WebhookDeliveryInclude;

/** Newest first, each with its attempts (oldest first); `cursor` is the id of the last delivery of the previous page. */
export async function listWebhookDeliveries(
  db: Db,
  tenantId: string,
  endpointId: string,
  { limit, cursor, status, eventType }: { limit: number; cursor?: string; status?: WebhookDeliveryStatus; eventType?: string },
): Promise<{ items: WebhookDeliveryWithAttempts[]; nextCursor: string | null }> {
  const rows = await db.webhookDelivery.findMany({
    where: { tenantId, endpointId, ...(status ? { status } : {}), ...(eventType ? { eventType } : {}) },
    orderBy: [{ seq: 'desc' }],
    take: limit + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    include: attemptsAscending,
  });
  const items = rows.slice(0, limit).map(withMessage);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
}

export async function findWebhookDelivery(db: Db, tenantId: string, endpointId: string, id: string): Promise<WebhookDeliveryWithAttempts | null> {
  const row = await db.webhookDelivery.findFirst({ where: { id, tenantId, endpointId }, include: attemptsAscending });
  return row && withMessage(row);
}

/**
 * Starts a new round of a delivery, whatever its state: pending again, back
 * in the outbox, retried for a whole WEBHOOK_RETRY_FOR_MS from now. The
 * message (id and body) stays the same; a queue entry of the earlier round
 * finds the round changed and does nothing.
 */
export async function requestRedelivery(db: Db, tenantId: string, endpointId: string, id: string): Promise<WebhookDeliveryWithAttempts | null> {
  const now = new Date();
  const { count } = await db.webhookDelivery.updateMany({
    where: { id, tenantId, endpointId },
    data: { round: { increment: 1 }, status: 'pending', roundStartedAt: now, queuedAt: null, nextAttemptAt: now, finishedAt: null, lastError: null },
  });
  return count === 0 ? null : findWebhookDelivery(db, tenantId, endpointId, id);
}

// ---- the delivery process ----

export interface OutboxEntry {
  deliveryId: string;
  round: number;
}

/**
 * Takes up to `limit` deliveries of the queue family `queueName` (the
 * QUEUE_NAME their endpoint was registered under) that are not in the queue
 * yet, oldest event first, hands them to `enqueue`, and marks them queued
 * once it returns, all in one transaction: rows other drainers hold are
 * skipped, and when `enqueue` throws (Redis away) nothing is marked and the
 * rows are taken again next time. Queue entries are keyed by delivery and
 * round, so one added twice (a crash between adding and committing) is one.
 */
export async function claimOutbox(db: Db, queueName: string, limit: number, enqueue: (entries: OutboxEntry[]) => Promise<unknown>): Promise<OutboxEntry[]> {
  return db.$transaction(
    async (tx) => {
      const rows = await tx.$queryRaw<{ id: string; round: number }[]>`
        SELECT "id", "round" FROM "webhook_deliveries"
        WHERE "queueName" = ${queueName} AND "queuedAt" IS NULL AND "status" = 'pending'
        ORDER BY "seq" LIMIT ${limit}
        FOR UPDATE SKIP LOCKED`;
      if (rows.length === 0) return [];
      const entries = rows.map((r) => ({ deliveryId: r.id, round: r.round }));
      await enqueue(entries);
      await tx.webhookDelivery.updateMany({ where: { id: { in: entries.map((e) => e.deliveryId) } }, data: { queuedAt: new Date() } });
      return entries;
    },
    { timeout: 15_000 },
  );
}

/**
 * Pending deliveries of `queueName` that should have been attempted before
 * `overdueBefore` (their queue entry may be gone: Redis restarted empty).
 */
export async function listOverdueDeliveries(db: Db, queueName: string, overdueBefore: Date, take = 200): Promise<OutboxEntry[]> {
  const rows = await db.webhookDelivery.findMany({
    where: { queueName, status: 'pending', queuedAt: { not: null, lt: overdueBefore }, OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lt: overdueBefore } }] },
    select: { id: true, round: true },
    orderBy: { seq: 'asc' },
    take,
  });
  return rows.map((r) => ({ deliveryId: r.id, round: r.round }));
}

/** A delivery with what its attempt needs of its endpoint, and how many attempts `round` has made; null when it is gone. */
export function findDeliveryToAttempt(db: Db, id: string, round: number) {
  return db.webhookDelivery.findUnique({
    where: { id },
    include: { endpoint: { select: { id: true, url: true, secret: true, enabled: true } }, _count: { select: { attempts: { where: { round } } } } },
  });
}

export interface AttemptRecord {
  round: number;
  startedAt: Date;
  durationMs: number;
  address: string | null;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
}

/** What an attempt leaves the delivery in: done, or pending until `nextAttemptAt`. */
export type AttemptOutcome = { status: 'succeeded' } | { status: 'failed' } | { status: 'pending'; nextAttemptAt: Date };

/**
 * Records an attempt (numbered after the delivery's last), and applies its
 * outcome unless the delivery moved on meanwhile (a redelivery started
 * another round): the attempt is kept either way, since its request was sent.
 */
export async function recordAttempt(db: Db, deliveryId: string, attempt: AttemptRecord, outcome: AttemptOutcome): Promise<void> {
  await db.$transaction(async (tx) => {
    // The row lock of this update numbers concurrent attempts of one delivery apart.
    const delivery = await tx.webhookDelivery
      .update({ where: { id: deliveryId }, data: { attemptCount: { increment: 1 } }, select: { attemptCount: true, round: true } })
      .catch((err: unknown) => {
        // Deleted with its endpoint meanwhile: nothing left to record on.
        if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') return null;
        throw err;
      });
    if (!delivery) return;
    await tx.webhookAttempt.create({ data: { deliveryId, attempt: delivery.attemptCount, ...attempt } });
    const current = delivery.round === attempt.round;
    await tx.webhookDelivery.update({
      where: { id: deliveryId },
      data: {
        lastAttemptAt: attempt.startedAt,
        lastStatusCode: attempt.statusCode,
        lastError: attempt.error,
        ...(current
          ? {
              status: outcome.status,
              nextAttemptAt: outcome.status === 'pending' ? outcome.nextAttemptAt : null,
              finishedAt: outcome.status === 'pending' ? null : new Date(),
            }
          : {}),
      },
    });
  });
}

/** Ends a round without an attempt (its endpoint was disabled); false when the round is no longer current. */
export async function failDelivery(db: Db, deliveryId: string, round: number, reason: string): Promise<boolean> {
  const { count } = await db.webhookDelivery.updateMany({
    where: { id: deliveryId, round, status: 'pending' },
    data: { status: 'failed', lastError: reason, nextAttemptAt: null, finishedAt: new Date() },
  });
  return count > 0;
}
