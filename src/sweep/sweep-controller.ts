import type { AppConfig } from '../config/config.js';
import { trainQueueJobId } from '../queue/jobs.js';
import { enqueueTraining, type TrainQueue } from '../queue/train-queue.js';
import { transition } from '../storage/jobs.repository.js';
import type { Db } from '../storage/prisma.js';
import * as sweeps from '../storage/sweeps.repository.js';
import { decideStep } from './sweep-step.js';

/**
 * The sweep controller. A sweep's whole state is in PostgreSQL (its row,
 * its trials' rows, their jobs and metrics), and advancing it is one
 * locked, idempotent step, so whoever calls `advanceSweep` (the API after a
 * submission or a cancel, a worker after a trial ends, every worker's
 * reconcile loop) moves it on correctly, and a sweep survives the death of
 * any of them.
 */

export interface SweepControllerDeps {
  db: Db;
  queue: TrainQueue;
  config: AppConfig;
}

/**
 * Creates the trials the sweep is ready for and queues them, ends it when
 * its last trial has ended, and cancels the unfinished trials of a
 * cancelled sweep. A trial job that cannot be queued now (Redis away) stays
 * `queued` in PostgreSQL for the workers' reconciler.
 */
export async function advanceSweep(deps: SweepControllerDeps, sweepId: string): Promise<sweeps.SweepStepOutcome | null> {
  const { db, queue, config } = deps;
  const outcome = await sweeps.stepSweep(db, config, sweepId, (state) =>
    decideStep(state, { limits: { maxParams: config.MAX_MODEL_PARAMS, maxMacs: config.MAX_MODEL_MACS }, defaultMaxWallTimeSeconds: config.JOB_MAX_WALL_TIME_SECONDS }),
  );
  if (!outcome) return null;
  for (const created of outcome.created) await enqueueTraining(queue, created).catch(() => undefined);
  if (outcome.status === 'cancelled') for (const jobId of outcome.unfinishedJobIds) await cancelTrialJob(deps, jobId);
  return outcome;
}

/** As POST /v1/jobs/{id}/cancel does: a queued trial is cancelled at once, a running one stops after its batch. */
async function cancelTrialJob({ db, queue }: SweepControllerDeps, jobId: string): Promise<void> {
  const now = new Date();
  const reason = 'its sweep was cancelled';
  if (await transition(db, jobId, ['queued'], 'cancelled', { cancelRequestedAt: now, finishedAt: now }, { reason })) {
    await queue.remove(trainQueueJobId(jobId)).catch(() => undefined);
    return;
  }
  await transition(db, jobId, ['running'], 'cancelling', { cancelRequestedAt: now }, { reason });
}

/** Advances the sweep job `jobId` is a trial of, if any (after the job ended). */
export async function advanceSweepOfJob(deps: SweepControllerDeps, jobId: string): Promise<void> {
  const sweepId = await sweeps.sweepIdOfJob(deps.db, jobId);
  if (sweepId) await advanceSweep(deps, sweepId);
}

/**
 * Every sweep of this queue that may need a step: running ones, and
 * cancelled ones with unfinished trials. Run by each worker's reconcile
 * loop, so a step that its worker died before taking is taken here.
 * Returns the sweeps that failed to advance, with why.
 */
export async function reconcileSweeps(deps: SweepControllerDeps): Promise<{ advanced: number; errors: { sweepId: string; error: string }[] }> {
  const errors: { sweepId: string; error: string }[] = [];
  const ids = await sweeps.listSweepsToAdvance(deps.db, deps.queue.name);
  for (const id of ids) {
    try {
      await advanceSweep(deps, id);
    } catch (err) {
      errors.push({ sweepId: id, error: (err as Error).message });
    }
  }
  return { advanced: ids.length - errors.length, errors };
}
