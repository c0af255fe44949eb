import { ChildCommand, ParentCommand, Worker, type Job } from 'bullmq';
import { sandboxPoolOf, type SandboxChild } from './bullmq-internals.js';
import type { Redis } from 'ioredis';
import { configToEnv, type AppConfig } from '../config/config.js';
import { createRedis } from '../queue/connection.js';
import { JobName, type JobOf } from '../queue/jobs.js';
import { createTrainQueue, type TrainQueue } from '../queue/train-queue.js';
import { createDb, type Db } from '../storage/prisma.js';
import { markFailed, markFailedAfterAttempts, markRetrying } from '../storage/jobs.repository.js';
import { describeEngine, selectEngine, type EngineInfo } from '../engine/select-engine.js';
import { reconcileOwnerlessJobs, reconcileQueuedJobs } from './reconciler.js';
import { HEARTBEAT_INTERVAL_MS, startHeartbeat, type Heartbeat } from '../queue/worker-heartbeats.js';
import { LOCK_LOST } from './lock-lost.error.js';
import { writeUntilStored } from './durable-write.js';
import { WorkerMetrics } from './worker-metrics.js';
import { serveMetrics, type MetricsServer } from '../infra/metrics.js';
import { advanceSweepOfJob, reconcileSweeps } from '../sweep/sweep-controller.js';

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface TrainingWorker {
  worker: Worker<JobOf<'train'>>;
  engine: EngineInfo;
  metrics: WorkerMetrics;
  /** Its /metrics listener, when options.metricsPort asked for one. */
  metricsServer?: MetricsServer;
  /** Stops taking jobs; a running job stops after its batch and is handed back with its checkpoint. */
  close(): Promise<void>;
}

const PROCESSOR = new URL('./train.processor.ts', import.meta.url);

/** BullMQ's Worker, telling which jobs it is processing, and able to start its sandboxes ahead of jobs. */
export class TrainWorker extends Worker<JobOf<'train'>> {
  /** Its lock manager (a protected member) tracks exactly the jobs in progress. */
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
    const pool = sandboxPoolOf(this);
    if (!pool) return 0;
    const { retain, release } = pool;
    // BullMQ keys its pool by the processor's href (what the sandbox retains with).
    const children = await Promise.all(Array.from({ length: count }, () => retain.call(pool, processor.href)));
    for (const child of children) release.call(pool, child);
    return children.length;
  }

  /**
   * BullMQ gives a sandbox back to its pool as soon as the parent side of a
   * job ends, even when the child is still running it: a failed progress
   * write or queue move ("Missing key" after Redis restarted empty) ends the
   * parent side at once. The next job then landed in a sandbox still
   * training ("cannot start a not idling child process") and failed. Here a
   * child counts as busy from the Start it is sent until it answers
   * Completed, Failed or Error; a busy child handed back is killed instead
   * (its job resumes from its checkpoint elsewhere), and the next job gets a
   * fresh one. Uses the same private pool as prewarmSandboxes; returns
   * false where that pool is missing.
   */
  guardSandboxes(onKill: (pid: number | undefined) => void): boolean {
    const pool = sandboxPoolOf(this);
    if (!pool) return false;
    const { retain, release, kill } = pool;
    const watched = new WeakSet<SandboxChild>();
    const busy = new WeakSet<SandboxChild>();
    const watch = (child: SandboxChild) => {
      if (watched.has(child)) return;
      watched.add(child);
      const send = child.send.bind(child);
      child.send = (msg) => {
        if (msg?.cmd === ChildCommand.Start) busy.add(child);
        return send(msg);
      };
      child.on('message', (msg) => {
        if (msg?.cmd === ParentCommand.Completed || msg?.cmd === ParentCommand.Failed || msg?.cmd === ParentCommand.Error) busy.delete(child);
      });
    };
    pool.retain = async (processFile: string) => {
      const child = (await retain.call(pool, processFile)) as SandboxChild;
      watch(child);
      return child;
    };
    pool.release = (child: unknown) => {
      if (!busy.has(child as SandboxChild)) return release.call(pool, child);
      onKill((child as SandboxChild).pid);
      void kill.call(pool, child, 'SIGKILL').catch(() => undefined);
    };
    return true;
  }

  /**
   * Progress is a best-effort notice for live views (the row keeps it too):
   * a failed write (Redis away, or the job gone from a restarted Redis) must
   * not end the job on the parent side while its sandbox trains on. A job
   * that lost its queue is stopped through its lock instead (see 'lockRenewalFailed').
   */
  onProgressError: (err: Error, job: Job<JobOf<'train'>>) => void = () => undefined;

  protected override callProcessJob(job: Job<JobOf<'train'>>, token: string, signal?: AbortSignal) {
    const update = job.updateProgress.bind(job);
    job.updateProgress = (progress) => update(progress).catch((err: Error) => this.onProgressError(err, job));
    return super.callProcessJob(job, token, signal);
  }
}

export interface TrainingWorkerOptions {
  /** How often the worker refreshes its status in Redis (see heartbeat.ts); its TTL is 3 intervals. */
  heartbeatIntervalMs?: number;
  /**
   * Serve /metrics and /healthz on this port (0: any free port), on
   * config.HOST. The entry passes WORKER_METRICS_PORT; workers started
   * inside tests leave it out and read `metrics` directly.
   */
  metricsPort?: number;
}

/** How long past SHUTDOWN_GRACE_MS a stopping worker process may take before it exits anyway (main.ts). */
export const WORKER_EXIT_MARGIN_MS = 5000;

/**
 * Starts a worker that takes training jobs from the queue and runs each in a
 * sandboxed child process. The engine is chosen here once and handed to the
 * children, so every job of this worker trains on the engine it logged.
 */
export async function startTrainingWorker(config: AppConfig, log: Logger, options: TrainingWorkerOptions = {}): Promise<TrainingWorker> {
  const engine = await selectEngine(config.ENGINE, { threads: config.ENGINE_THREADS });
  log.info({ engine }, `training engine: ${describeEngine(engine)}`);

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
    },
  });

  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('active', (job) => log.info({ jobId: job.data.jobId }, 'training started'));
  worker.on('completed', (job, result) => log.info({ jobId: job.data.jobId, result }, 'training finished'));
  worker.on('stalled', (id) => log.warn({ queueJobId: id }, 'a job lost its worker; it will be resumed'));
  // A trial that ended lets its sweep create the next ones now; the reconcile loop below catches any step missed here.
  const advanceSweep = (jobId: string) =>
    advanceSweepOfJob({ db, queue, config }, jobId).catch((err: Error) => log.warn({ jobId, err: err.message }, 'could not advance the sweep of a trial; the reconcile loop will'));
  worker.on('completed', (job) => void advanceSweep(job.data.jobId));
  const metrics = new WorkerMetrics(engine, config.WORKER_CONCURRENCY, () => worker.processingQueueJobIds().length);
  worker.on('progress', (_job, progress) => metrics.progress(progress as object));
  worker.on('completed', (_job, result: { status?: string } | undefined) => metrics.attempts.labels(result?.status ?? 'succeeded').inc());
  // Queue entry id -> job id of the jobs taken; a job handed back or deferred leaves no event, so old entries go by age.
  const jobIds = new Map<string, { jobId: string; since: number }>();
  let closing = false;
  worker.on('failed', (job: Job<JobOf<'train'>> | undefined, err: Error & { code?: string }) => {
    if (!job || job.name !== JobName.Train) return;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    const jobId = job.data.jobId;
    metrics.attempts.labels(final ? 'failed' : 'retrying').inc();
    log.warn({ jobId, attempt: job.attemptsMade, final, err: { name: err.name, message: err.message, code: err.code } }, 'training failed');
    const write = () =>
      !final
        ? markRetrying(db, jobId, `attempt ${job.attemptsMade} failed (${err.message}); retrying`)
        : err.name === 'UnrecoverableError'
          ? markFailed(db, jobId, { code: err.code ?? 'training-failed', message: err.message })
          : markFailedAfterAttempts(db, jobId, err.code ?? 'worker-failed', err.message);
    // Retried for as long as PostgreSQL is away; if this process stops first, the reconciler finds the failed entry.
    writeUntilStored(db, write, {
      stopped: () => closing,
      onRetry: (e, attempt, waitMs) => log.warn({ jobId, attempt, waitMs, err: e.message }, 'could not record the failure yet; retrying'),
    })
      .then(() => advanceSweep(jobId))
      .catch((e) => log.error({ err: e, jobId }, 'could not record the failure'));
  });

  // A lock that cannot be renewed means the queue no longer counts this
  // worker as the job's owner (Redis restarted empty, or it was unreachable
  // past JOB_LOCK_MS and the lock expired). Stop training at once: another
  // worker, or the reconciler, resumes the job from its checkpoint. Locks
  // are renewed every JOB_LOCK_MS / 2, so a lost lock stops the training
  // within about JOB_LOCK_MS / 2 plus one batch after Redis answers again.
  worker.on('lockRenewalFailed', (queueJobIds: string[]) => {
    for (const id of queueJobIds) {
      log.warn({ queueJobId: id, jobId: jobIds.get(id)?.jobId }, 'lost the queue lock of a job; stopping its training');
      worker.cancelJob(id, LOCK_LOST);
    }
  });
  const reportedProgressErrors = new Set<string>();
  worker.onProgressError = (err, job) => {
    if (reportedProgressErrors.has(job.data.jobId)) return;
    reportedProgressErrors.add(job.data.jobId);
    log.warn({ jobId: job.data.jobId, err: err.message }, 'could not publish progress; training goes on');
  };
  const guarded = worker.guardSandboxes((pid) => log.warn({ pid }, 'a sandbox was handed back while still running a job; killed it'));
  if (!guarded) log.warn('cannot watch sandboxes (BullMQ internals changed); a busy sandbox may be handed a job');

  let heartbeat: Heartbeat | undefined;
  // 'active' comes just before the lock manager tracks the job: report it a moment later.
  const beatSoon = () => void setTimeout(() => void heartbeat?.beat(), 50).unref();
  worker.on('active', (job) => {
    if (job.id) jobIds.set(job.id, { jobId: job.data.jobId, since: Date.now() });
    beatSoon();
  });
  worker.on('completed', (job) => {
    if (job.id) jobIds.delete(job.id);
    reportedProgressErrors.delete(job.data.jobId);
    beatSoon();
  });
  worker.on('failed', (job) => {
    if (job?.id) jobIds.delete(job.id);
    if (job) reportedProgressErrors.delete(job.data.jobId);
    beatSoon();
  });

  // Ownerless rows must stay so for one heartbeat TTL before they are settled (see reconcileOwnerlessJobs).
  const heartbeatTtlMs = 3 * (options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS);
  const ownerless = new Map<string, number>();
  let reconciling = false;
  const reconcile = async () => {
    if (reconciling) return;
    reconciling = true;
    try {
      const ids = await reconcileQueuedJobs(db, queue);
      if (ids.length) log.warn({ jobIds: ids }, 're-queued jobs that Redis did not know');
      const settled = await reconcileOwnerlessJobs(db, queue, producer, { graceMs: heartbeatTtlMs, seen: ownerless });
      if (settled.requeued.length) log.warn({ jobIds: settled.requeued }, 're-queued running jobs that had lost their worker; they resume from their checkpoints');
      if (settled.failed.length) log.warn({ jobIds: settled.failed }, 'recorded the failure of jobs whose worker could not');
      if (settled.cancelled.length) log.warn({ jobIds: settled.cancelled }, 'finished the cancel of jobs whose worker was lost');
      // Sweeps live in PostgreSQL: any worker takes the steps of a sweep whose trials ended while no one was looking.
      const sweeps = await reconcileSweeps({ db, queue, config });
      for (const failed of sweeps.errors) log.error(failed, 'could not advance a sweep');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'reconciling jobs failed');
    } finally {
      reconciling = false;
    }
  };
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

  let metricsServer: MetricsServer | undefined;
  if (options.metricsPort !== undefined) {
    const wanted = options.metricsPort;
    metricsServer = await serveMetrics(metrics.registry, {
      host: config.HOST,
      port: wanted,
      token: config.METRICS_TOKEN,
      onPortTaken: (port) => log.warn({ port }, `WORKER_METRICS_PORT ${port} is taken (another worker on this host?); serving metrics on a free port instead`),
    });
    log.info({ host: config.HOST, port: metricsServer.port, token: config.METRICS_TOKEN ? 'required' : 'none' }, 'metrics at /metrics');
  }

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
    metricsPort: metricsServer?.port,
    onBeat: () => metrics.beat(),
    onError: (err) => {
      metrics.heartbeatFailures.inc();
      log.warn({ err: err.message }, 'could not write the worker heartbeat');
    },
  });

  return {
    worker,
    engine,
    metrics,
    metricsServer,
    async close() {
      closing = true;
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
      // Last, so a scrape during the hand-back still sees the worker.
      await metricsServer?.close();
    },
  };
}
