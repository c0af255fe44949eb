import type { Db } from '../storage/prisma.js';
import { listQueuedBefore } from '../storage/jobs.repository.js';
import { enqueueTraining, type TrainQueue } from '../queue/train-queue.js';
import { trainQueueJobId } from '../queue/jobs.js';

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
