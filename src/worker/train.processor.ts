/**
 * BullMQ sandboxed processor: runs in its own process, so a long epoch never
 * blocks the worker's event loop (which renews job locks). The engine, the
 * database client and the artifact store are created once per process.
 */
import { DelayedError, WaitingError, type SandboxedJob } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { resolveQuotas } from '../config/quotas.js';
import { createDb, type Db } from '../storage/prisma.js';
import { createArtifactStore, type ArtifactStore } from '../storage/artifact-store.js';
import { selectEngine, type EngineInfo } from './engine/select-engine.js';
import { trainJob, type TrainOutcome } from './trainer.js';
import { HandBackError } from './hand-back.error.js';
import { isRetiring, mustRetire, retireAfterReply, watchJob, type TrainResult } from './sandbox-process.js';
import { markRetrying } from '../storage/jobs.repository.js';
import type { JobOf } from '../queue/jobs.js';

// If the worker process dies (even by SIGKILL) this process must not train on
// unsupervised: another worker will resume the job from its checkpoint.
process.on('disconnect', () => process.exit(1));

let ready: Promise<{ db: Db; engine: EngineInfo; artifacts: ArtifactStore; maxWallTimeMs: number; maxRunning: (q: unknown) => number }> | null = null;

// A tenant at its running-jobs limit: look again after this long, leaving the worker to other tenants' jobs.
const DEFER_MS = 2000;

function init() {
  ready ??= (async () => {
    const config = loadConfig();
    const engine = await selectEngine(config.ENGINE);
    return {
      db: createDb(config.DATABASE_URL, { poolSize: 2 }),
      engine,
      artifacts: createArtifactStore(config.ARTIFACT_DIR),
      maxWallTimeMs: config.JOB_MAX_WALL_TIME_SECONDS * 1000,
      maxRunning: (overrides: unknown) => resolveQuotas(config, overrides).runningJobs,
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
    if (!(err instanceof HandBackError)) throw err;
    // Back to the queue without spending an attempt; the next worker resumes from the checkpoint.
    await markRetrying(db, job.data.jobId, err.message);
    await job.moveToWait(token);
    throw new WaitingError();
  }
  if (outcome.status === 'deferred') {
    await job.moveToDelayed(Date.now() + DEFER_MS, token);
    throw new DelayedError(outcome.reason);
  }
  return { ...outcome, sandbox: watch.finish() };
}
