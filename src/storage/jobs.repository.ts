import { JobStatusEnum, type Db, type Job, type EpochMetric, type Prisma } from './prisma.js';
import { readJobEvent, readJobRow, StateEventDataSchema, type StateEventData, type StoredJob, type StoredJobEvent, type StoredPlan } from './job.schema.js';
import type { JobDocument } from '../queue/job-document.js';
import { readStoredJson } from './stored-json.js';
import { emitJobEventWebhooks } from './webhooks.repository.js';
import { emitTrialWebhooks } from './sweep-webhooks.js';

/**
 * Data-access for training jobs, their per-epoch metrics and their events.
 * Every state change goes through `transition`, which writes the new state
 * and its event in one transaction and only from the states allowed, so
 * concurrent actors (API cancel, worker finish) cannot overwrite each other.
 * Misses return null; routes decide what that means.
 */

export type JobStatus = Job['status'];
/** Every state of a job, in lifecycle order; from the database enum, so a state added there appears here. */
export const JOB_STATUSES: readonly JobStatus[] = Object.values(JobStatusEnum);
/** States a job never leaves. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];
/** States a job can still fail or be cancelled from: every state that is not terminal. */
export const UNFINISHED_STATUSES: readonly JobStatus[] = JOB_STATUSES.filter((s) => !TERMINAL_STATUSES.includes(s));
/** States in which a worker holds the job: what counts against a tenant's running-jobs quota. */
export const RUNNING_STATUSES: readonly JobStatus[] = ['running', 'cancelling'];

export function isTerminalStatus(status: string): status is JobStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}
/** A job with its model and the registered versions of that model (for the view's `registeredAs`), its JSON columns checked. */
export type JobWithModel = Omit<Prisma.JobGetPayload<{ include: typeof withModel }>, keyof StoredJob> & StoredJob;

const withModel = {
  model: { select: { id: true, versions: { select: { version: true, registeredModel: { select: { name: true } } } } } },
} satisfies Prisma.JobInclude;

export interface NewJob {
  tenantId: string;
  name?: string | null;
  /** The job document in its current form: what a worker trains from. */
  spec: JobDocument;
  /** The planner's output for `spec.model`. */
  plan: StoredPlan;
  datasetId: string;
  queueName: string;
  epochs: number;
  maxWallTimeMs?: number | null;
  idempotencyKey?: string | null;
  requestHash?: string | null;
  /** Registered model the job's model becomes the next version of when it succeeds. */
  registerName?: string | null;
}

type Tx = Prisma.TransactionClient;

/**
 * Records an event of the job in `tx`, the transaction of the change it
 * describes, with the webhook deliveries it causes (the outbox): an event
 * and its deliveries are stored together or not at all. A final state of a
 * sweep's trial is also a `sweep.trial` message.
 */
export async function addJobEvent(tx: Tx, jobId: string, type: 'state' | 'metrics', data: Prisma.InputJsonObject): Promise<void> {
  const event = await tx.jobEvent.create({ data: { jobId, type, data } });
  await emitJobEventWebhooks(tx, event);
  if (type === 'state' && isTerminalStatus(String(data.status))) await emitTrialWebhooks(tx, event);
}

export async function createJob(db: Db, job: NewJob): Promise<StoredJob> {
  const created = await db.$transaction(async (tx) => {
    const row = await tx.job.create({ data: { ...job, status: 'queued' } });
    await addJobEvent(tx, row.id, 'state', { status: 'queued' });
    return row;
  });
  return readJobRow(created);
}

export async function findJob(db: Db, tenantId: string, id: string): Promise<JobWithModel | null> {
  const row = await db.job.findFirst({ where: { id, tenantId }, include: withModel });
  return row && readJobRow(row);
}

export async function findJobByIdempotencyKey(db: Db, tenantId: string, key: string): Promise<JobWithModel | null> {
  const row = await db.job.findFirst({ where: { tenantId, idempotencyKey: key }, include: withModel });
  return row && readJobRow(row);
}

/** Newest first; `cursor` is the id of the last job of the previous page. */
export async function listJobs(
  db: Db,
  tenantId: string,
  { limit, cursor, status, name, sweepId }: { limit: number; cursor?: string; status?: JobStatus; name?: string; sweepId?: string },
): Promise<{ items: JobWithModel[]; nextCursor: string | null }> {
  const rows = await db.job.findMany({
    where: { tenantId, ...(status ? { status } : {}), ...(name ? { name: { contains: name, mode: 'insensitive' } } : {}), ...(sweepId ? { sweepId } : {}) },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    include: withModel,
  });
  const items = rows.slice(0, limit).map(readJobRow);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
}

export async function jobExists(db: Db, tenantId: string, id: string): Promise<boolean> {
  return (await db.job.count({ where: { id, tenantId } })) > 0;
}

/** Jobs of the tenant waiting in the queue: what counts against its queued-jobs quota. */
export function countQueuedJobs(db: Db, tenantId: string): Promise<number> {
  return db.job.count({ where: { tenantId, status: 'queued' } });
}

/** Of `ids`, those that are jobs of `tenantId` (others' ids, and unknown ones, are left out). */
export async function jobIdsOfTenant(db: Db, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  const rows = await db.job.findMany({ where: { id: { in: [...ids] }, tenantId }, select: { id: true } });
  return new Set(rows.map((j) => j.id));
}

/** Where training of job `id` stands: epoch and batch of its epoch. */
export function findProgress(db: Db, id: string): Promise<Pick<Job, 'epoch' | 'epochs' | 'batch' | 'batchesPerEpoch' | 'batchLoss' | 'batchAccuracy' | 'status'> | null> {
  return db.job.findUnique({ where: { id }, select: { epoch: true, epochs: true, batch: true, batchesPerEpoch: true, batchLoss: true, batchAccuracy: true, status: true } });
}

export function listMetrics(db: Db, jobId: string): Promise<EpochMetric[]> {
  return db.epochMetric.findMany({ where: { jobId }, orderBy: { epoch: 'asc' } });
}

export function latestMetric(db: Db, jobId: string): Promise<EpochMetric | null> {
  return db.epochMetric.findFirst({ where: { jobId }, orderBy: { epoch: 'desc' } });
}

export async function listEvents(db: Db, jobId: string, afterId = 0n, take = 200): Promise<StoredJobEvent[]> {
  return (await db.jobEvent.findMany({ where: { jobId, id: { gt: afterId } }, orderBy: { id: 'asc' }, take })).map(readJobEvent);
}

/** State changes only, oldest first: the job's history. */
export async function listStateEvents(db: Db, jobId: string): Promise<{ data: StateEventData; createdAt: Date }[]> {
  const rows = await db.jobEvent.findMany({ where: { jobId, type: 'state' }, orderBy: { id: 'asc' } });
  return rows.map((e) => ({ data: readStoredJson(StateEventDataSchema, e.data, `event ${e.id} of job ${jobId}`), createdAt: e.createdAt }));
}

export function getStatus(db: Db, id: string): Promise<{ status: JobStatus; cancelRequestedAt: Date | null } | null> {
  return db.job.findUnique({ where: { id }, select: { status: true, cancelRequestedAt: true } });
}

/**
 * Moves job `id` from one of `from` to `to` with `data`, recording a state
 * event. Returns false (and changes nothing) when the job is not in `from`.
 */
export async function transition(
  db: Db,
  id: string,
  from: readonly JobStatus[],
  to: JobStatus,
  data: Prisma.JobUpdateManyMutationInput = {},
  event: Record<string, Prisma.InputJsonValue | null> = {},
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.job.updateMany({ where: { id, status: { in: [...from] } }, data: { ...data, status: to } });
    if (count === 0) return false;
    await addJobEvent(tx, id, 'state', { status: to, ...event } as Prisma.InputJsonObject);
    return true;
  });
}

// ---- transitions used by the worker ----

/** A tenant's limit of jobs running at once, read inside the claim's transaction (see quotas.repository). */
export type RunningLimit = (tx: Tx, tenantId: string) => Promise<number>;

/**
 * Moves a queued job (or one that was running when its worker died) to
 * running and counts the attempt, unless its tenant already runs
 * `maxRunning` jobs ('busy': the caller puts it back for later). A per-tenant
 * advisory lock makes the count and the claim atomic across workers.
 * 'gone' when the job is missing, finished or being cancelled, so a stale
 * queue entry is never trained.
 */
export async function markRunning(
  db: Db,
  id: string,
  fields: { engine: Prisma.InputJsonValue; maxRunning: RunningLimit },
): Promise<{ claimed: Job } | { busy: true; running: number; limit: number } | { gone: true }> {
  return db.$transaction(async (tx) => {
    const job = await tx.job.findUnique({ where: { id } });
    if (job?.status === 'cancelling') {
      // Its worker died between the cancel request and the next batch: finish the cancel here.
      await tx.job.update({ where: { id }, data: { status: 'cancelled', finishedAt: new Date() } });
      await addJobEvent(tx, id, 'state', { status: 'cancelled', reason: 'cancelled while its worker was lost' });
      return { gone: true as const };
    }
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return { gone: true as const };
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`tenant:${job.tenantId}`}))`;
    const limit = await fields.maxRunning(tx, job.tenantId);
    const running = await tx.job.count({ where: { tenantId: job.tenantId, status: { in: [...RUNNING_STATUSES] }, id: { not: id } } });
    if (running >= limit) return { busy: true as const, running, limit };
    const attempt = job.attempts + 1;
    const { count } = await tx.job.updateMany({
      where: { id, status: { in: ['queued', 'running'] } },
      data: { status: 'running', startedAt: new Date(), finishedAt: null, engine: fields.engine, attempts: attempt, errorCode: null, errorMessage: null },
    });
    if (count === 0) return { gone: true as const };
    await addJobEvent(tx, id, 'state', { status: 'running', attempt });
    return { claimed: (await tx.job.findUnique({ where: { id } }))! };
  });
}

/** Where training stands; `batchLoss`/`batchAccuracy` are the means of the current epoch's batches so far (null at an epoch's start). */
export function updateProgress(
  db: Db,
  id: string,
  progress: { epoch: number; batch: number; batchesPerEpoch: number; batchLoss?: number | null; batchAccuracy?: number | null; split?: Prisma.InputJsonValue },
): Promise<unknown> {
  return db.job.updateMany({ where: { id, status: { in: [...RUNNING_STATUSES] } }, data: progress });
}

/**
 * Records a finished epoch and its checkpoint in one transaction. The unique
 * (job, epoch) key and resuming after `checkpointEpoch` keep the series free
 * of gaps and duplicates across retries.
 */
export async function recordEpoch(db: Db, jobId: string, m: Omit<EpochMetric, 'id' | 'jobId' | 'createdAt'>, checkpointEpoch?: number): Promise<EpochMetric> {
  return db.$transaction(async (tx) => {
    const row = await tx.epochMetric.upsert({ where: { jobId_epoch: { jobId, epoch: m.epoch } }, create: { jobId, ...m }, update: m });
    if (checkpointEpoch !== undefined) await tx.job.update({ where: { id: jobId }, data: { checkpointEpoch } });
    await addJobEvent(tx, jobId, 'metrics', { ...m, createdAt: row.createdAt.toISOString() });
    return row;
  });
}

export function markFailed(db: Db, id: string, error: { code: string; message: string }): Promise<boolean> {
  return transition(db, id, UNFINISHED_STATUSES, 'failed', { errorCode: error.code, errorMessage: error.message, finishedAt: new Date() }, { error });
}

/** A failed attempt that will be retried: back to queued, with the reason in the history. */
export function markRetrying(db: Db, id: string, reason: string): Promise<boolean> {
  return transition(db, id, ['running'], 'queued', {}, { reason });
}

/**
 * A job out of attempts. The message counts the attempts that actually
 * started training (the row's count), not the queue's deliveries, so a job
 * that never got to train does not claim it tried.
 */
export async function markFailedAfterAttempts(db: Db, id: string, code: string, lastError: string): Promise<boolean> {
  const row = await db.job.findUnique({ where: { id }, select: { attempts: true } });
  if (!row) return false;
  const message =
    row.attempts === 0
      ? `the job could not start; last error: ${lastError}`
      : `training failed after ${row.attempts} attempt${row.attempts === 1 ? '' : 's'}; last error: ${lastError}`;
  return markFailed(db, id, { code, message });
}

export function markCancelled(db: Db, id: string, reason?: string): Promise<boolean> {
  return transition(db, id, UNFINISHED_STATUSES, 'cancelled', { finishedAt: new Date() }, reason ? { reason } : {});
}

/** Jobs of `queueName` that a worker should own now (running, or being cancelled), oldest first. */
export function listUnfinishedInQueue(db: Db, queueName: string, take = 500): Promise<Pick<Job, 'id' | 'tenantId' | 'status' | 'checkpointEpoch'>[]> {
  return db.job.findMany({
    where: { status: { in: [...RUNNING_STATUSES] }, queueName },
    select: { id: true, tenantId: true, status: true, checkpointEpoch: true },
    orderBy: { createdAt: 'asc' },
    take,
  });
}

/** Queued jobs of `queueName` older than `olderThan`, which a reconciler should make sure are in that queue. */
export function listQueuedBefore(db: Db, queueName: string, olderThan: Date, take = 500): Promise<Pick<Job, 'id' | 'tenantId'>[]> {
  return db.job.findMany({ where: { status: 'queued', queueName, createdAt: { lt: olderThan } }, select: { id: true, tenantId: true }, orderBy: { createdAt: 'asc' }, take });
}
