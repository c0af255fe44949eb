import type { Prisma, Sweep } from './prisma.js';
import { readSweepRow, type StoredSweep } from './sweep.schema.js';
import { bestTrialSummary, listTrials, trialObjective, trialProgress } from './sweep-trials.js';
import { isWebhookEventType } from './webhook.schema.js';
import { emitWebhookEvent } from './webhooks.repository.js';

/**
 * The webhook messages of sweeps, written into the outbox inside the
 * transaction of the change they report: `sweep.<status>` where a sweep
 * starts or ends (sweeps.repository), `sweep.trial` where a trial's job
 * enters a final state (jobs.repository's addJobEvent). Their data is
 * composed only when an endpoint of the tenant subscribed.
 */

type Tx = Prisma.TransactionClient;

/** What every sweep.<status> message says of the sweep; progress and best are read in `tx`, so they include this transaction's changes. */
async function sweepData(tx: Tx, sweep: StoredSweep) {
  const trials = await listTrials(tx, [sweep.id]);
  const doc = sweep.spec;
  return {
    sweepId: sweep.id,
    sweepName: sweep.name,
    status: sweep.status,
    algorithm: doc.algorithm,
    objective: doc.objective,
    maxTrials: doc.maxTrials,
    parallelism: doc.parallelism,
    progress: trialProgress(trials),
    best: bestTrialSummary(trials, doc.objective),
    ...(sweep.status === 'failed' ? { error: { code: sweep.errorCode ?? 'sweep-failed', message: sweep.errorMessage ?? '' } } : {}),
  };
}

/** `sweep.<status>` for a sweep row just written in `tx` in that status (created running, or ended). */
export async function emitSweepStateWebhooks(tx: Tx, row: Sweep): Promise<number> {
  const type = `sweep.${row.status}`;
  if (!isWebhookEventType(type)) return 0;
  const sweep = readSweepRow(row);
  return emitWebhookEvent(tx, { tenantId: sweep.tenantId, type, at: sweep.finishedAt ?? sweep.createdAt, data: () => sweepData(tx, sweep) });
}

/**
 * `sweep.trial` for the final state event just written in `tx` for job
 * `jobId`, when that job is a trial of a sweep: the trial's parameters,
 * objective, epochs and whether early stopping ended it, with the sweep's
 * progress and best trial counting it. 0 for other jobs.
 */
export async function emitTrialWebhooks(tx: Tx, event: { id: bigint; jobId: string; createdAt: Date }): Promise<number> {
  const trialRow = await tx.sweepTrial.findUnique({ where: { jobId: event.jobId }, select: { sweep: true } });
  if (!trialRow) return 0;
  let sweep: StoredSweep;
  try {
    sweep = readSweepRow(trialRow.sweep);
  } catch {
    // A message must never be what fails the change it reports; a sweep whose definition cannot be read has none.
    return 0;
  }
  const data = async () => {
    const trials = await listTrials(tx, [sweep.id]);
    // Found: its trial row was read in this transaction.
    const trial = trials.find((t) => t.jobId === event.jobId)!;
    const { job } = trial;
    return {
      sweepId: sweep.id,
      sweepName: sweep.name,
      trial: trial.index,
      jobId: trial.jobId,
      eventId: String(event.id),
      status: job.status,
      params: trial.params,
      metric: sweep.spec.objective.metric,
      objective: trialObjective(trial, sweep.spec.objective.metric),
      epochs: trial.last?.epoch ?? 0,
      earlyStopped: job.status === 'succeeded' && job.stopReason !== null,
      stopReason: job.stopReason,
      modelId: job.modelId,
      error: job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? '' } : null,
      progress: trialProgress(trials),
      best: bestTrialSummary(trials, sweep.spec.objective),
    };
  };
  return emitWebhookEvent(tx, { tenantId: sweep.tenantId, type: 'sweep.trial', at: event.createdAt, data });
}
