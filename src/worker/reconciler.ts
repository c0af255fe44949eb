import type { Redis } from 'ioredis';
import type { Db } from '../storage/prisma.js';
import { listQueuedBefore, listUnfinishedInQueue, markCancelled, markFailedAfterAttempts, markRetrying } from '../storage/jobs.repository.js';
import { enqueueTraining, type TrainQueue } from '../queue/train-queue.js';
import { trainQueueJobId } from '../queue/jobs.js';
import { listWorkers } from '../queue/worker-heartbeats.js';

/**
 * Postgres is the source of truth; Redis only carries work. A job stored as
 * queued that Redis does not know (Redis was down when it was submitted, or
 * lost its data) is queued again. Enqueueing is keyed by the job id, so two
 * reconcilers racing cannot queue a job twice.
 */
export async function reconcileQueuedJobs(db: Db, queue: TrainQueue, graceMs = 5000): Promise<string[]> {
  const requeued: string[] = [];
  for (const job of await listQueuedBefore(db, queue.name, new Date(Date.now() - graceMs))) {
    const existing = await queue.getJob(trainQueueJobId(job.id));
    // A finished queue entry for a row still marked queued is stale (e.g. handed back): replace it.
    const state = existing ? await existing.getState() : 'missing';
    if (state === 'completed' || state === 'failed') await existing!.remove();
    if (state === 'missing' || state === 'completed' || state === 'failed' || state === 'unknown') {
      await enqueueTraining(queue, { jobId: job.id, tenantId: job.tenantId });
      requeued.push(job.id);
    }
  }
  return requeued;
}

/** Queue states in which BullMQ itself will run the entry, or notices its worker died (stalled-job check). */
const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

export interface OwnerlessOptions {
  /**
   * How long a row must be seen without an owner, across passes, before it
   * is settled: at least the workers' heartbeat TTL, so that a live worker
   * whose status Redis lost (a restart) has written it again by then.
   */
  graceMs: number;
  /** When each row was first seen ownerless; kept by the caller from pass to pass. */
  seen: Map<string, number>;
}

export interface OwnerlessOutcome {
  requeued: string[];
  failed: string[];
  cancelled: string[];
}

/**
 * Rows that say `running` or `cancelling` but have no owner: no live
 * worker's heartbeat lists them, and their queue entry is gone (Redis lost
 * it, or its worker lost the lock) or finished (its worker could not write
 * the outcome and is gone). Such a row is settled:
 * - `cancelling`: cancelled;
 * - queue entry failed: failed, with the entry's last error;
 * - otherwise: back to `queued` and into the queue, resuming from its checkpoint.
 *
 * An entry that is still live (active, waiting, delayed) is BullMQ's to
 * deal with: an active one whose worker died is moved back to waiting by
 * the stalled-job check within 2 x JOB_LOCK_MS.
 *
 * Bound: with passes every R = RECONCILE_INTERVAL_MS and heartbeats living
 * T = 3 heartbeat intervals, a row that lost its owner (worker killed, or
 * its lock lost and training stopped) is first seen ownerless within T + R
 * and settled one grace (T) plus at most R later: within 2T + 2R, while
 * PostgreSQL and Redis answer (an outage adds its length). See worker.ts
 * for how long a lost lock takes to stop the training.
 */
export async function reconcileOwnerlessJobs(db: Db, queue: TrainQueue, redis: Redis, options: OwnerlessOptions): Promise<OwnerlessOutcome> {
  const outcome: OwnerlessOutcome = { requeued: [], failed: [], cancelled: [] };
  const rows = await listUnfinishedInQueue(db, queue.name);
  const owned = new Set((await listWorkers(redis, queue.name)).flatMap((w) => w.activeJobIds));
  const now = Date.now();
  const current = new Set(rows.map((r) => r.id));
  for (const id of options.seen.keys()) if (!current.has(id)) options.seen.delete(id);

  for (const row of rows) {
    const queueJobId = trainQueueJobId(row.id);
    if (owned.has(row.id) || owned.has(queueJobId)) {
      options.seen.delete(row.id);
      continue;
    }
    const entry = await queue.getJob(queueJobId);
    const state = entry ? await entry.getState() : 'missing';
    if (LIVE_STATES.has(state)) {
      options.seen.delete(row.id);
      continue;
    }
    const firstSeen = options.seen.get(row.id) ?? now;
    options.seen.set(row.id, firstSeen);
    if (now - firstSeen < options.graceMs) continue;

    options.seen.delete(row.id);
    if (row.status === 'cancelling') {
      if (await markCancelled(db, row.id, 'cancelled while its worker was lost')) outcome.cancelled.push(row.id);
    } else if (state === 'failed') {
      if (await markFailedAfterAttempts(db, row.id, 'worker-failed', entry?.failedReason || 'its worker was lost')) outcome.failed.push(row.id);
    } else if (await markRetrying(db, row.id, `its worker was lost (queue entry ${state}); the job resumes after epoch ${row.checkpointEpoch}`)) {
      if (entry) await entry.remove();
      await enqueueTraining(queue, { jobId: row.id, tenantId: row.tenantId });
      outcome.requeued.push(row.id);
    }
  }
  return outcome;
}
