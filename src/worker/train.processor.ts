/**
 * BullMQ sandboxed processor: runs in its own process, so a long epoch never
 * blocks the worker's event loop (which renews job locks). The engine, the
 * database client and the artifact store are created once per process.
 */
import type { SandboxedJob } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { createDb, type Db } from '../storage/prisma.js';
import { createArtifactStore } from '../storage/artifact-store.js';
import { selectEngine, type EngineInfo } from './engine/select-engine.js';
import { trainJob, type TrainOutcome } from './trainer.js';
import type { JobOf } from '../queue/jobs.js';

let ready: Promise<{ db: Db; engine: EngineInfo; artifactDir: string }> | null = null;

function init() {
  ready ??= (async () => {
    const config = loadConfig();
    const engine = await selectEngine(config.ENGINE);
    return { db: createDb(config.DATABASE_URL, { poolSize: 2 }), engine, artifactDir: config.ARTIFACT_DIR };
  })();
  return ready;
}

export default async function trainProcessor(job: SandboxedJob<JobOf<'train'>>): Promise<TrainOutcome> {
  const { db, engine, artifactDir } = await init();
  return trainJob({
    db,
    artifacts: createArtifactStore(artifactDir),
    engine: { ...engine },
    jobId: job.data.jobId,
    attempt: job.attemptsMade + 1,
    reportProgress: (progress) => job.updateProgress(progress as unknown as object),
  });
}
