import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { configToEnv, type AppConfig } from '../config/config.js';
import { createRedis } from '../queue/connection.js';
import { JobName, type JobOf } from '../queue/jobs.js';
import { createDb, type Db } from '../storage/prisma.js';
import { markFailed } from '../storage/jobs.repository.js';
import { selectEngine, type EngineInfo } from './engine/select-engine.js';

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface TrainingWorker {
  worker: Worker<JobOf<'train'>>;
  engine: EngineInfo;
  close(): Promise<void>;
}

const PROCESSOR = new URL('./train.processor.ts', import.meta.url);

/**
 * Starts a worker that takes training jobs from the queue and runs each in a
 * sandboxed child process. The engine is chosen here once and handed to the
 * children, so every job of this worker trains on the engine it logged.
 */
export async function startTrainingWorker(config: AppConfig, log: Logger): Promise<TrainingWorker> {
  const engine = await selectEngine(config.ENGINE);
  log.info({ engine }, `training engine: ${engine.name} (tfjs ${engine.version}${engine.name === 'wasm' ? `, simd ${engine.simd ? 'on' : 'off'}` : ''})`);

  const db: Db = createDb(config.DATABASE_URL, { poolSize: 2 });
  const connection: Redis = createRedis(config.REDIS_URL, 'worker');
  const worker = new Worker<JobOf<'train'>>(config.QUEUE_NAME, PROCESSOR, {
    connection,
    concurrency: config.WORKER_CONCURRENCY,
    useWorkerThreads: false,
    workerForkOptions: {
      execArgv: ['--import', import.meta.resolve('tsx')],
      // Sandboxes read their config from the environment: hand them this worker's, with the engine it resolved.
      env: { ...process.env, ...configToEnv(config), ENGINE: engine.name },
    } as never,
  });

  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('active', (job) => log.info({ jobId: job.data.jobId, attempt: job.attemptsMade + 1 }, 'training started'));
  worker.on('completed', (job, result) => log.info({ jobId: job.data.jobId, result }, 'training finished'));
  worker.on('failed', (job: Job<JobOf<'train'>> | undefined, err: Error & { code?: string }) => {
    if (!job || job.name !== JobName.Train) return;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    log.warn({ jobId: job.data.jobId, attempt: job.attemptsMade, final, err: { name: err.name, message: err.message, code: err.code } }, 'training failed');
    if (!final) return;
    const code = err.code ?? (err.name === 'UnrecoverableError' ? 'training-failed' : 'worker-failed');
    const message =
      err.name === 'UnrecoverableError' ? err.message : `training failed after ${job.attemptsMade} attempts; last error: ${err.message}`;
    markFailed(db, job.data.jobId, { code, message }).catch((e) => log.error({ err: e, jobId: job.data.jobId }, 'could not record failure'));
  });

  await worker.waitUntilReady();
  return {
    worker,
    engine,
    async close() {
      await worker.close();
      await connection.quit().catch(() => undefined);
      await db.$disconnect();
    },
  };
}
