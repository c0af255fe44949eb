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
import { startHeartbeat, type Heartbeat } from './heartbeat.js';

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

/** What BullMQ's (private) pool of sandbox processes offers; see prewarmSandboxes. */
interface ChildPoolLike {
  retain(processFile: string): Promise<unknown>;
  release(child: unknown): void;
}

/** BullMQ's Worker, telling which jobs it is processing, and able to start its sandboxes ahead of jobs. */
class TrainWorker extends Worker<JobOf<'train'>> {
  /** Its lock manager tracks exactly the jobs in progress. */
  processingQueueJobIds(): string[] {
    return this.lockManager.getTrackedJobIds();
  }

  /**
   * Forks `count` sandboxes and loads the processor in them (tfjs, Prisma,
   * the trainer: ~1.3 s of a core under tsx), so that the first jobs do not
   * wait for that. BullMQ has no API for it: this uses the worker's private
   * child pool, the one its sandboxes take processes from, and does nothing
   * where that pool is missing. Call before run(), so no job races it.
   */
  async prewarmSandboxes(processor: URL, count: number): Promise<number> {
    const pool = (this as unknown as { childPool?: Partial<ChildPoolLike> }).childPool;
    if (typeof pool?.retain !== 'function' || typeof pool.release !== 'function') return 0;
    const { retain, release } = pool as ChildPoolLike;
    // BullMQ keys its pool by the processor's href (what the sandbox retains with).
    const children = await Promise.all(Array.from({ length: count }, () => retain.call(pool, processor.href)));
    for (const child of children) release.call(pool, child);
    return children.length;
  }
}

export interface TrainingWorkerOptions {
  /** How often the worker refreshes its status in Redis (see heartbeat.ts). */
  heartbeatIntervalMs?: number;
}

/**
 * Starts a worker that takes training jobs from the queue and runs each in a
 * sandboxed child process. The engine is chosen here once and handed to the
 * children, so every job of this worker trains on the engine it logged.
 */
export async function startTrainingWorker(config: AppConfig, log: Logger, options: TrainingWorkerOptions = {}): Promise<TrainingWorker> {
  const engine = await selectEngine(config.ENGINE);
  log.info({ engine }, `training engine: ${engine.name} (tfjs ${engine.version}${engine.name === 'wasm' ? `, simd ${engine.simd ? 'on' : 'off'}` : ''})`);

  const db: Db = createDb(config.DATABASE_URL, { poolSize: 2 });
  const connection: Redis = createRedis(config.REDIS_URL, 'worker');
  const producer: Redis = createRedis(config.REDIS_URL, 'worker');
  const queue: TrainQueue = createTrainQueue(config.QUEUE_NAME, producer, config.JOB_ATTEMPTS);
  queue.on('error', (err) => log.error({ err: err.message }, 'queue error'));
  const worker = new TrainWorker(config.QUEUE_NAME, PROCESSOR, {
    connection,
    // Started below, once its sandboxes are up.
    autorun: false,
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

  // Queue entry id -> job id of the jobs taken; a job handed back or deferred leaves no event, so old entries go by age.
  const jobIds = new Map<string, { jobId: string; since: number }>();
  let heartbeat: Heartbeat | undefined;
  // 'active' comes just before the lock manager tracks the job: report it a moment later.
  const beatSoon = () => void setTimeout(() => void heartbeat?.beat(), 50).unref();
  worker.on('active', (job) => {
    if (job.id) jobIds.set(job.id, { jobId: job.data.jobId, since: Date.now() });
    beatSoon();
  });
  worker.on('completed', (job) => {
    if (job.id) jobIds.delete(job.id);
    beatSoon();
  });
  worker.on('failed', (job) => {
    if (job?.id) jobIds.delete(job.id);
    beatSoon();
  });

  const reconcile = () =>
    reconcileQueuedJobs(db, queue).then(
      (ids) => ids.length && log.warn({ jobIds: ids }, 're-queued jobs that Redis did not know'),
      (err) => log.error({ err: err.message }, 'reconciling queued jobs failed'),
    );
  const timer = setInterval(reconcile, config.RECONCILE_INTERVAL_MS);
  timer.unref();

  await worker.waitUntilReady();
  const started = performance.now();
  const prewarmed = await worker.prewarmSandboxes(PROCESSOR, config.WORKER_CONCURRENCY).catch((err: Error) => {
    log.warn({ err: err.message }, 'could not start sandboxes ahead of jobs; each job starts its own');
    return 0;
  });
  if (prewarmed) log.info({ sandboxes: prewarmed, ms: Math.round(performance.now() - started) }, 'sandboxes ready');
  worker.run().catch((err: Error) => log.error({ err }, 'worker stopped taking jobs'));
  await reconcile();

  heartbeat = await startHeartbeat(producer, {
    queueName: config.QUEUE_NAME,
    engine,
    concurrency: config.WORKER_CONCURRENCY,
    intervalMs: options.heartbeatIntervalMs,
    activeJobIds: () => {
      const processing = worker.processingQueueJobIds();
      const now = Date.now();
      for (const [id, entry] of jobIds) if (!processing.includes(id) && now - entry.since > 60_000) jobIds.delete(id);
      return processing.map((id) => jobIds.get(id)?.jobId ?? id);
    },
    onError: (err) => log.warn({ err: err.message }, 'could not write the worker heartbeat'),
  });

  return {
    worker,
    engine,
    async close() {
      clearInterval(timer);
      await heartbeat?.stop();
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
