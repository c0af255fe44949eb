/**
 * BullMQ sandboxed processor: runs in its own process, so a long epoch never
 * blocks the worker's event loop (which renews job locks). The engine, the
 * database client and the artifact store are created once per process.
 */
import { DelayedError, WaitingError, type SandboxedJob } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { tenantQuotas } from '../storage/quotas.repository.js';
import type { RunningLimit } from '../storage/jobs.repository.js';
import { createDb, type Db } from '../storage/prisma.js';
import { artifactStoreFor, type ArtifactStore } from '../storage/artifact-store.js';
import { selectEngine, type EngineInfo } from '../engine/select-engine.js';
import { trainJob, type TrainOutcome } from './trainer.js';
import { HandBackError } from './hand-back.error.js';
import { LOCK_LOST, LockLostError } from './lock-lost.error.js';
import { TrainingError } from './training-error.js';
import { isRetiring, mustRetire, retireAfterReply, watchJob, type TrainResult } from './sandbox-process.js';
import { markRetrying } from '../storage/jobs.repository.js';
import { databaseAnswers, waitForDatabase } from '../storage/db-health.js';
import { dependencyOutage } from '../infra/dependency-outage.js';
import type { JobOf } from '../queue/jobs.js';

// If the worker process dies (even by SIGKILL) this process must not train on
// unsupervised: another worker will resume the job from its checkpoint.
process.on('disconnect', () => process.exit(1));

let ready: Promise<{ db: Db; engine: EngineInfo; artifacts: ArtifactStore; maxWallTimeMs: number; maxRunning: RunningLimit }> | null = null;

// A tenant at its running-jobs limit: look again after this long, leaving the worker to other tenants' jobs.
const DEFER_MS = 2000;

function init() {
  ready ??= (async () => {
    const config = loadConfig();
    const engine = await selectEngine(config.ENGINE, { threads: config.ENGINE_THREADS });
    return {
      db: createDb(config.DATABASE_URL, { poolSize: 2 }),
      engine,
      artifacts: artifactStoreFor(config),
      maxWallTimeMs: config.JOB_MAX_WALL_TIME_SECONDS * 1000,
      maxRunning: async (tx, tenantId) => (await tenantQuotas(tx, config, tenantId)).runningJobs,
    };
  })();
  return ready;
}

export default async function trainProcessor(job: SandboxedJob<JobOf<'train'>>, token?: string, signal?: AbortSignal): Promise<TrainResult> {
  if (isRetiring()) {
    // This process is exiting after running out of memory; the job goes back untouched to a fresh sandbox.
    await job.moveToWait(token);
    throw new WaitingError();
  }
  const { db, engine, artifacts, maxWallTimeMs, maxRunning } = await init();
  const watch = watchJob();
  let outcome: TrainOutcome;
  try {
    outcome = await trainJob({
      db,
      artifacts,
      engine: { ...engine },
      jobId: job.data.jobId,
      maxWallTimeMs,
      maxRunning,
      signal,
      reportProgress: (progress) => job.updateProgress(progress as unknown as object),
    });
  } catch (err) {
    if (mustRetire(err)) retireAfterReply();
    // Another worker may own the job now, or the reconciler re-queues it: touch neither the row nor the queue.
    if (err instanceof LockLostError) throw err;
    if (err instanceof HandBackError) return handBack(db, job, token, err.message);
    if (!(err instanceof TrainingError) && (await lostTheDatabase(db, err))) {
      // An outage is not the job's fault: wait it out here, holding the queue
      // lock (the worker keeps renewing it), then resume from the checkpoint
      // without spending one of the job's attempts. A few fast retries would
      // burn them all in seconds (bug: 3 attempts in 6 s, row left running).
      const back = await waitForDatabase(db, signal);
      if (!back && signal?.reason === LOCK_LOST) throw new LockLostError(`the queue lock was lost while PostgreSQL was unreachable (${(err as Error).message})`);
      return handBack(db, job, token, `PostgreSQL was unreachable (${firstLine(err)}); the job resumes from its last checkpoint`);
    }
    if (!(err instanceof TrainingError) && dependencyOutage(err) === 'object store') {
      // The same for the object store (a checkpoint, the dataset or the model could not be read or written).
      const back = await waitForStore(artifacts, signal);
      if (!back && signal?.reason === LOCK_LOST) throw new LockLostError(`the queue lock was lost while the object store was unreachable (${(err as Error).message})`);
      return handBack(db, job, token, `the object store was unreachable (${firstLine(err)}); the job resumes from its last checkpoint`);
    }
    throw err;
  }
  if (outcome.status === 'deferred') {
    await job.moveToDelayed(Date.now() + DEFER_MS, token);
    throw new DelayedError(outcome.reason);
  }
  return { ...outcome, sandbox: watch.finish() };
}

/**
 * Back to the queue without spending an attempt; the next worker resumes
 * from the checkpoint. The row says so when PostgreSQL takes the write; when
 * it does not, the row stays `running`, which the next claim accepts.
 */
async function handBack(db: Db, job: SandboxedJob<JobOf<'train'>>, token: string | undefined, reason: string): Promise<never> {
  await markRetrying(db, job.data.jobId, reason).catch(() => undefined);
  await job.moveToWait(token);
  throw new WaitingError();
}

const STORE_FIRST_WAIT_MS = 250;
const STORE_LONGEST_WAIT_MS = 5000;

/** Resolves true once the artifact store answers again (backoff 250 ms doubling to 5 s), false as soon as `signal` aborts. */
async function waitForStore(store: ArtifactStore, signal?: AbortSignal): Promise<boolean> {
  for (let wait = STORE_FIRST_WAIT_MS; ; wait = Math.min(wait * 2, STORE_LONGEST_WAIT_MS)) {
    if (signal?.aborted) return false;
    if (
      await store.ping().then(
        () => true,
        () => false,
      )
    )
      return true;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** Whether `err` came from PostgreSQL being away: by its kind, or because the database does not answer now. */
async function lostTheDatabase(db: Db, err: unknown): Promise<boolean> {
  return dependencyOutage(err) === 'PostgreSQL' || !(await databaseAnswers(db));
}

function firstLine(err: unknown): string {
  return (
    String((err as Error)?.message ?? err)
      .split('\n')
      .find((l) => l.trim())
      ?.trim()
      .slice(0, 200) ?? 'unknown error'
  );
}
