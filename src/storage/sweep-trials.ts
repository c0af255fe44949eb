import type { SweepMetric } from '../queue/sweep-document.js';
import type { JobStatus } from './jobs.repository.js';
import { Prisma, type Db } from './prisma.js';
import { readTrialParams, type StoredTrialParams } from './sweep.schema.js';

/**
 * A sweep's trials as read for its controller, its views and its webhook
 * messages: each trial with its job's state and last finished epoch, and
 * what follows from them alone (objective, best trial, counts). Imports
 * nothing at run time from the other repositories, so the job events'
 * transaction can describe a trial without a cycle.
 */

type Tx = Prisma.TransactionClient;

/** A trial's last finished epoch, from its job's metrics. */
export interface LastEpoch {
  epoch: number;
  loss: number;
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
}

export interface TrialRow {
  sweepId: string;
  index: number;
  jobId: string;
  params: StoredTrialParams;
  job: { status: JobStatus; epochs: number; attempts: number; stopReason: string | null; errorCode: string | null; errorMessage: string | null; modelId: string | null };
  last: LastEpoch | null;
}

/** The trials of these sweeps with their jobs' state and last epoch, by sweep then index. */
export async function listTrials(db: Db | Tx, sweepIds: readonly string[]): Promise<TrialRow[]> {
  if (sweepIds.length === 0) return [];
  const rows = await db.sweepTrial.findMany({
    where: { sweepId: { in: [...sweepIds] } },
    orderBy: [{ sweepId: 'asc' }, { index: 'asc' }],
    include: {
      job: { select: { status: true, epochs: true, attempts: true, stopReason: true, errorCode: true, errorMessage: true, model: { select: { id: true } } } },
    },
  });
  const ids = Prisma.join(sweepIds.map((id) => Prisma.sql`${id}::uuid`));
  const last = await db.$queryRaw<(LastEpoch & { jobId: string })[]>`
    SELECT DISTINCT ON (m."jobId") m."jobId", m.epoch, m.loss, m.accuracy, m."valLoss", m."valAccuracy"
    FROM epoch_metrics m JOIN sweep_trials t ON t."jobId" = m."jobId"
    WHERE t."sweepId" IN (${ids})
    ORDER BY m."jobId", m.epoch DESC`;
  const lastOf = new Map(last.map(({ jobId, ...m }) => [jobId, m]));
  return rows.map((r) => ({
    sweepId: r.sweepId,
    index: r.index,
    jobId: r.jobId,
    params: readTrialParams(r.params, r.sweepId, r.index),
    job: {
      status: r.job.status,
      epochs: r.job.epochs,
      attempts: r.job.attempts,
      stopReason: r.job.stopReason,
      errorCode: r.job.errorCode,
      errorMessage: r.job.errorMessage,
      modelId: r.job.model?.id ?? null,
    },
    last: lastOf.get(r.jobId) ?? null,
  }));
}

/** A trial's objective: its metric at the last epoch it finished; null before its first. */
export function trialObjective(t: TrialRow, metric: SweepMetric): number | null {
  const value = t.last?.[metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The best succeeded trial by the objective (the earlier one on a tie), or null. */
export function bestTrial(trials: TrialRow[], objective: { metric: SweepMetric; goal: 'maximize' | 'minimize' }): TrialRow | null {
  let best: { trial: TrialRow; value: number } | null = null;
  for (const t of trials) {
    if (t.job.status !== 'succeeded') continue;
    const value = trialObjective(t, objective.metric);
    if (value === null) continue;
    if (best === null || (objective.goal === 'maximize' ? value > best.value : value < best.value)) best = { trial: t, value };
  }
  return best?.trial ?? null;
}

/** How many trials are in each state; a trial of a job being cancelled still counts as running. */
export function trialProgress(trials: TrialRow[]) {
  const count = (status: JobStatus) => trials.filter((t) => t.job.status === status).length;
  return {
    trials: trials.length,
    queued: count('queued'),
    running: count('running') + count('cancelling'),
    succeeded: count('succeeded'),
    earlyStopped: trials.filter((t) => t.job.status === 'succeeded' && t.job.stopReason !== null).length,
    failed: count('failed'),
    cancelled: count('cancelled'),
  };
}

/** The best trial as the sweep's view and its messages show it, or null while no trial has succeeded with a value. */
export function bestTrialSummary(trials: TrialRow[], objective: { metric: SweepMetric; goal: 'maximize' | 'minimize' }) {
  const best = bestTrial(trials, objective);
  const value = best && trialObjective(best, objective.metric);
  if (!best || value === null) return null;
  return { trial: best.index, jobId: best.jobId, modelId: best.job.modelId, params: best.params, objective: value, epochs: best.last?.epoch ?? 0 };
}
