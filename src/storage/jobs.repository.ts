import type { Db, Job, EpochMetric, Prisma } from './prisma.js';

/** Data-access for training jobs and their per-epoch metrics. Misses return null; routes decide what that means. */

export interface NewJob {
  tenantId: string;
  name?: string | null;
  spec: Prisma.InputJsonValue;
  plan: Prisma.InputJsonValue;
  datasetId: string;
  epochs: number;
}

export function createJob(db: Db, job: NewJob): Promise<Job> {
  return db.job.create({ data: { ...job, status: 'queued' } });
}

export function findJob(db: Db, tenantId: string, id: string): Promise<(Job & { model: { id: string } | null }) | null> {
  return db.job.findFirst({ where: { id, tenantId }, include: { model: { select: { id: true } } } });
}

/** Newest first; `cursor` is the id of the last job of the previous page. */
export async function listJobs(
  db: Db,
  tenantId: string,
  { limit, cursor, status }: { limit: number; cursor?: string; status?: Job['status'] },
): Promise<{ items: (Job & { model: { id: string } | null })[]; nextCursor: string | null }> {
  const rows = await db.job.findMany({
    where: { tenantId, ...(status ? { status } : {}) },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    include: { model: { select: { id: true } } },
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
}

export async function jobExists(db: Db, tenantId: string, id: string): Promise<boolean> {
  return (await db.job.count({ where: { id, tenantId } })) > 0;
}

export function listMetrics(db: Db, jobId: string): Promise<EpochMetric[]> {
  return db.epochMetric.findMany({ where: { jobId }, orderBy: { epoch: 'asc' } });
}

export function latestMetric(db: Db, jobId: string): Promise<EpochMetric | null> {
  return db.epochMetric.findFirst({ where: { jobId }, orderBy: { epoch: 'desc' } });
}

// ---- transitions used by the worker ----

/**
 * Moves a queued (or retried running) job to running. Returns null when the
 * job is gone or already finished, so a stale queue entry is not trained twice.
 */
export async function markRunning(db: Db, id: string, fields: { engine: Prisma.InputJsonValue; attempts: number }): Promise<Job | null> {
  const { count } = await db.job.updateMany({
    where: { id, status: { in: ['queued', 'running'] } },
    data: { status: 'running', startedAt: new Date(), engine: fields.engine, attempts: fields.attempts, errorCode: null, errorMessage: null },
  });
  return count === 0 ? null : db.job.findUnique({ where: { id } });
}

export function updateProgress(
  db: Db,
  id: string,
  progress: { epoch: number; batch: number; batchesPerEpoch: number; split?: Prisma.InputJsonValue },
): Promise<unknown> {
  return db.job.updateMany({ where: { id, status: 'running' }, data: progress });
}

/** Idempotent per (job, epoch): a retried epoch overwrites its row instead of duplicating it. */
export function recordEpoch(
  db: Db,
  jobId: string,
  m: Omit<EpochMetric, 'id' | 'jobId' | 'createdAt'>,
): Promise<EpochMetric> {
  return db.epochMetric.upsert({ where: { jobId_epoch: { jobId, epoch: m.epoch } }, create: { jobId, ...m }, update: m });
}

export function markFailed(db: Db, id: string, error: { code: string; message: string }): Promise<unknown> {
  return db.job.updateMany({
    where: { id, status: { in: ['queued', 'running', 'cancelling'] } },
    data: { status: 'failed', errorCode: error.code, errorMessage: error.message, finishedAt: new Date() },
  });
}
