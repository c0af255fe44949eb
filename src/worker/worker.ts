import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { configToEnv, type AppConfig } from '../config/config.js';
import { createRedis } from '../queue/connection.js';
import { JobName, type JobOf } from '../queue/jobs.js';
import { createTrainQueue, type TrainQueue } from '../queue/train-queue.js';
import { createDb, type Db } from '../storage/prisma.js';
import { markFailed, markRetrying } from '../storage/jobs.repository.js';
import { selectEngine, type EngineInfo } from './engine/select-engine.js';
import { reconcileQueuedJobs } from './reconciler.js';

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface TrainingWorker {
  worker: Worker<JobOf<'train'>>;
  engine: EngineInfo;
  /** Stops taking jobs; a running job stops after its batch and is handed back with its checkpoint. */
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
  const producer: Redis = createRedis(config.REDIS_URL, 'worker');
  const queue: TrainQueue = createTrainQueue(config.QUEUE_NAME, producer, config.JOB_ATTEMPTS);
  queue.on('error', (err) => log.error({ err: err.message }, 'queue error'));
  const worker = new Worker<JobOf<'train'>>(config.QUEUE_NAME, PROCESSOR, {
    connection,
    concurrency: config.WORKER_CONCURRENCY,
    useWorkerThreads: false,
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: config.JOB_LOCK_MS,
    // A job whose worker died is resumed from its checkpoint, up to the attempt limit.
    maxStalledCount: config.JOB_ATTEMPTS,
    workerForkOptions: {
      execArgv: ['--import', import.meta.resolve('tsx')],
      // Sandboxes read their config from the environment: hand them this worker's, with the engine it resolved.
      env: { ...process.env, ...configToEnv(config), ENGINE: engine.name },
    } as never,
  });

  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('active', (job) => log.info({ jobId: job.data.jobId }, 'training started'));
  worker.on('completed', (job, result) => log.info({ jobId: job.data.jobId, result }, 'training finished'));
  worker.on('stalled', (id) => log.warn({ queueJobId: id }, 'a job lost its worker; it will be resumed'));
  worker.on('failed', (job: Job<JobOf<'train'>> | undefined, err: Error & { code?: string }) => {
    if (!job || job.name !== JobName.Train) return;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    log.warn({ jobId: job.data.jobId, attempt: job.attemptsMade, final, err: { name: err.name, message: err.message, code: err.code } }, 'training failed');
    const record = final
      ? markFailed(db, job.data.jobId, {
          code: err.code ?? (err.name === 'UnrecoverableError' ? 'training-failed' : 'worker-failed'),
          message: err.name === 'UnrecoverableError' ? err.message : `training failed after ${job.attemptsMade} attempts; last error: ${err.message}`,
        })
      : markRetrying(db, job.data.jobId, `attempt ${job.attemptsMade} failed (${err.message}); retrying`);
    record.catch((e) => log.error({ err: e, jobId: job.data.jobId }, 'could not record the failure'));
  });

  const reconcile = () =>
    reconcileQueuedJobs(db, queue).then(
      (ids) => ids.length && log.warn({ jobIds: ids }, 're-queued jobs that Redis did not know'),
      (err) => log.error({ err: err.message }, 'reconciling queued jobs failed'),
    );
  const timer = setInterval(reconcile, config.RECONCILE_INTERVAL_MS);
  timer.unref();

  await worker.waitUntilReady();
  await reconcile();
  return {
    worker,
    engine,
    async close() {
      clearInterval(timer);
      // Running jobs see their abort signal, stop after the batch and hand themselves back.
      worker.cancelAllJobs('shutdown');
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([
        worker.close(),
        new Promise<void>((resolve) => {
          timeout = setTimeout(() => {
            log.warn({ graceMs: config.SHUTDOWN_GRACE_MS }, 'jobs did not stop within the grace period; forcing');
            resolve(worker.close(true));
          }, config.SHUTDOWN_GRACE_MS);
        }),
      ]);
      clearTimeout(timeout);
      await queue.close().catch(() => undefined);
      await Promise.all([connection.quit(), producer.quit()].map((p) => p.catch(() => undefined)));
      await db.$disconnect();
    },
  };
}
