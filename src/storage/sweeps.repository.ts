import type { AppConfig } from '../config/config.js';
import type { JobDocument } from '../queue/job-document.js';
import type { SweepDocument } from '../queue/sweep-document.js';
import type { StoredPlan } from './job.schema.js';
import { readJobEvent, type StoredJobEvent } from './job.schema.js';
import { addJobEvent, isTerminalStatus, UNFINISHED_STATUSES } from './jobs.repository.js';
import { type Prisma, SweepStatusEnum, type Db, type SweepStatus } from './prisma.js';
import { tenantQuotas } from './quotas.repository.js';
import { readSweepRow, type StoredSweep, type StoredTrialParams } from './sweep.schema.js';
import { listTrials, type LastEpoch, type TrialRow } from './sweep-trials.js';
import { emitSweepStateWebhooks } from './sweep-webhooks.js';

export { listTrials, type LastEpoch, type TrialRow };

/**
 * Data access for sweeps and their trials. A sweep changes only under its
 * own advisory lock (`stepSweep`, `judgeTrialEpoch`, `markSweepCancelled`),
 * so any number of workers and API processes can advance one at once
 * without creating a trial twice or judging an epoch twice. What to do is
 * decided by the caller's pure functions (src/sweep); this module reads
 * the state, holds the lock and writes the outcome.
 */

export type { SweepStatus };
export const SWEEP_STATUSES: readonly SweepStatus[] = Object.values(SweepStatusEnum);
export const TERMINAL_SWEEP_STATUSES: readonly SweepStatus[] = ['succeeded', 'failed', 'cancelled'];

type Tx = Prisma.TransactionClient;

async function lockSweep(tx: Tx, sweepId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`sweep:${sweepId}`}))`;
}

export interface NewSweep {
  tenantId: string;
  name: string | null;
  spec: SweepDocument;
  queueName: string;
  idempotencyKey?: string | null;
  requestHash?: string | null;
}

/** Stores a new sweep, running, with its `sweep.running` webhook deliveries. */
export async function createSweep(db: Db, sweep: NewSweep): Promise<StoredSweep> {
  const row = await db.$transaction(async (tx) => {
    const created = await tx.sweep.create({
      data: { ...sweep, spec: sweep.spec as unknown as Prisma.InputJsonObject, maxTrials: sweep.spec.maxTrials, parallelism: sweep.spec.parallelism, status: 'running' },
    });
    await emitSweepStateWebhooks(tx, created);
    return created;
  });
  return readSweepRow(row);
}

export async function findSweep(db: Db, tenantId: string, id: string): Promise<StoredSweep | null> {
  const row = await db.sweep.findFirst({ where: { id, tenantId } });
  return row && readSweepRow(row);
}

/** The tenant's sweep submitted with Idempotency-Key `key`, or null. */
export async function findSweepByIdempotencyKey(db: Db, tenantId: string, key: string): Promise<StoredSweep | null> {
  const row = await db.sweep.findFirst({ where: { tenantId, idempotencyKey: key } });
  return row && readSweepRow(row);
}

/** Newest first; `cursor` is the id of the last sweep of the previous page. */
export async function listSweeps(
  db: Db,
  tenantId: string,
  { limit, cursor, status }: { limit: number; cursor?: string; status?: SweepStatus },
): Promise<{ items: StoredSweep[]; nextCursor: string | null }> {
  const rows = await db.sweep.findMany({
    where: { tenantId, ...(status ? { status } : {}) },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, limit).map(readSweepRow);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
}

/** What the controller decides from: the sweep, its trials, and how many more jobs its tenant may queue now. */
export interface SweepState {
  sweep: StoredSweep;
  trials: TrialRow[];
  queueRoom: number;
}

/** A trial to create: its index and parameters, and its job as POST /v1/jobs would store it. */
export interface TrialToCreate {
  index: number;
  params: StoredTrialParams;
  name: string | null;
  spec: JobDocument;
  plan: StoredPlan;
  maxWallTimeMs: number;
}

export interface SweepStep {
  create: TrialToCreate[];
  finish?: { status: 'succeeded' | 'failed'; error?: { code: string; message: string } };
}

export interface SweepStepOutcome {
  status: SweepStatus;
  /** Jobs created in this step, stored as queued: the caller puts them in the queue. */
  created: { jobId: string; tenantId: string }[];
  /** Trial jobs not finished after the step (a cancelled sweep's are to be cancelled). */
  unfinishedJobIds: string[];
}

/**
 * One step of a sweep, under its lock: reads its state, lets `step` decide
 * which trials to create and whether the sweep is done, and stores that in
 * the same transaction (each trial's job row, its first event and its
 * trial row). A sweep that is no longer running is only reported. null
 * when the sweep does not exist.
 */
export async function stepSweep(db: Db, config: AppConfig, sweepId: string, step: (state: SweepState) => SweepStep): Promise<SweepStepOutcome | null> {
  return db.$transaction(
    async (tx) => {
      await lockSweep(tx, sweepId);
      const row = await tx.sweep.findUnique({ where: { id: sweepId } });
      if (!row) return null;
      const sweep = readSweepRow(row);
      const trials = await listTrials(tx, [sweepId]);
      const unfinished = trials.filter((t) => !isTerminalStatus(t.job.status)).map((t) => t.jobId);
      if (sweep.status !== 'running') return { status: sweep.status, created: [], unfinishedJobIds: unfinished };
      const quotas = await tenantQuotas(tx, config, sweep.tenantId);
      const queued = await tx.job.count({ where: { tenantId: sweep.tenantId, status: 'queued' } });
      const decided = step({ sweep, trials, queueRoom: quotas.queuedJobs - queued });
      const created: SweepStepOutcome['created'] = [];
      for (const trial of decided.create) {
        const job = await tx.job.create({
          data: {
            tenantId: sweep.tenantId,
            name: trial.name,
            spec: trial.spec,
            plan: trial.plan,
            datasetId: trial.spec.dataset.id,
            queueName: sweep.queueName,
            epochs: trial.spec.training.epochs,
            maxWallTimeMs: trial.maxWallTimeMs,
            sweepId,
            status: 'queued',
          },
        });
        await addJobEvent(tx, job.id, 'state', { status: 'queued' });
        await tx.sweepTrial.create({ data: { sweepId, index: trial.index, jobId: job.id, params: trial.params as Prisma.InputJsonObject } });
        created.push({ jobId: job.id, tenantId: sweep.tenantId });
      }
      let status: SweepStatus = sweep.status;
      if (decided.finish) {
        status = decided.finish.status;
        const ended = await tx.sweep.update({
          where: { id: sweepId },
          data: { status, finishedAt: new Date(), errorCode: decided.finish.error?.code ?? null, errorMessage: decided.finish.error?.message ?? null },
        });
        await emitSweepStateWebhooks(tx, ended);
      }
      return { status, created, unfinishedJobIds: [...unfinished, ...created.map((c) => c.jobId)] };
    },
    // Creating up to `parallelism` jobs with their events and webhook deliveries.
    { timeout: 30_000 },
  );
}

/**
 * Cancels a running sweep under its lock, so that no trial is created after
 * it; its trials are cancelled by the caller. `changed` is false when the
 * sweep had already ended (cancelled, succeeded or failed). null: no such
 * sweep of this tenant.
 */
export async function markSweepCancelled(db: Db, tenantId: string, id: string): Promise<{ sweep: StoredSweep; changed: boolean } | null> {
  return db.$transaction(async (tx) => {
    await lockSweep(tx, id);
    const row = await tx.sweep.findFirst({ where: { id, tenantId } });
    if (!row) return null;
    if (row.status !== 'running') return { sweep: readSweepRow(row), changed: false };
    const updated = await tx.sweep.update({ where: { id }, data: { status: 'cancelled', finishedAt: new Date() } });
    await emitSweepStateWebhooks(tx, updated);
    return { sweep: readSweepRow(updated), changed: true };
  });
}

/** Sweeps of `queueName` a controller should look at: running ones, and cancelled ones whose trials are not all finished. */
export async function listSweepsToAdvance(db: Db, queueName: string, take = 500): Promise<string[]> {
  const rows = await db.sweep.findMany({
    where: { queueName, OR: [{ status: 'running' }, { status: 'cancelled', jobs: { some: { status: { in: [...UNFINISHED_STATUSES] } } } }] },
    select: { id: true },
    orderBy: { createdAt: 'asc' },
    take,
  });
  return rows.map((r) => r.id);
}

/** The sweep a job is a trial of, or null. */
export async function sweepIdOfJob(db: Db, jobId: string): Promise<string | null> {
  return (await db.job.findUnique({ where: { id: jobId }, select: { sweepId: true } }))?.sweepId ?? null;
}

/** Per-epoch values of every trial of a sweep: job id → [epoch 1, epoch 2, ...] rows (epochs without a row are missing). */
export type TrialSeries = Map<string, LastEpoch[]>;

export interface EpochToJudge {
  sweep: StoredSweep;
  jobId: string;
  epoch: number;
  /** Epochs the trial's job trains in all. */
  epochs: number;
  series: TrialSeries;
}

export type Judged = { stop: false } | { stop: true; reason: string };

/**
 * Judges epoch `epoch` of trial job `jobId` once: under the sweep's lock,
 * an epoch already judged returns the recorded decision (a trial resumed
 * on another worker is not judged anew with more data); otherwise `judge`
 * decides from every trial's metrics up to that epoch, and the decision is
 * recorded. null when the job is not a trial.
 */
export async function judgeTrialEpoch(db: Db, jobId: string, epoch: number, judge: (input: EpochToJudge) => Judged): Promise<Judged | null> {
  const found = await db.sweepTrial.findUnique({ where: { jobId }, select: { sweepId: true } });
  if (!found) return null;
  return db.$transaction(async (tx) => {
    await lockSweep(tx, found.sweepId);
    const trial = await tx.sweepTrial.findUnique({ where: { jobId }, include: { sweep: true, job: { select: { epochs: true } } } });
    if (!trial) return null;
    if (trial.stopEpoch !== null && trial.stopEpoch <= epoch) return { stop: true, reason: trial.stopReason ?? `early-stopped after epoch ${trial.stopEpoch}` };
    if (trial.decidedEpoch >= epoch) return { stop: false };
    const rows = await tx.epochMetric.findMany({
      where: { job: { sweepId: trial.sweepId }, epoch: { lte: epoch } },
      select: { jobId: true, epoch: true, loss: true, accuracy: true, valLoss: true, valAccuracy: true },
      orderBy: [{ jobId: 'asc' }, { epoch: 'asc' }],
    });
    const series: TrialSeries = new Map();
    for (const { jobId: id, ...m } of rows) {
      const list = series.get(id) ?? [];
      list.push(m);
      series.set(id, list);
    }
    const decision = judge({ sweep: readSweepRow(trial.sweep), jobId, epoch, epochs: trial.job.epochs, series });
    await tx.sweepTrial.update({
      where: { jobId },
      data: { decidedEpoch: epoch, ...(decision.stop ? { stopEpoch: epoch, stopReason: decision.reason } : {}) },
    });
    return decision;
  });
}

/** Events of a sweep's trial jobs after `afterId`, oldest first, with the job each belongs to. */
export async function listTrialEvents(db: Db, sweepId: string, afterId = 0n, take = 200): Promise<(StoredJobEvent & { jobId: string })[]> {
  const rows = await db.jobEvent.findMany({ where: { job: { sweepId }, id: { gt: afterId } }, orderBy: { id: 'asc' }, take });
  return rows.map((e) => ({ ...readJobEvent(e), jobId: e.jobId }));
}

/** The sweep's status now (for the event stream's polling). */
export async function sweepStatus(db: Db, id: string): Promise<SweepStatus | null> {
  return (await db.sweep.findUnique({ where: { id }, select: { status: true } }))?.status ?? null;
}
