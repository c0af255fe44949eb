import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry, HTTP_SECONDS_BUCKETS } from '../../infra/metrics.js';
import type { ServingObserver } from '../../predict/serving.js';
import type { TrainQueue } from '../../queue/train-queue.js';
import { listWorkers, type WorkerStatus } from '../../queue/worker-heartbeats.js';
import { countJobsByTenantAndStatus, type JobCount } from '../../storage/job-counts.repository.js';
import type { Db } from '../../storage/prisma.js';

/** Where the gauges that describe the whole deployment read from at scrape time. */
export interface MetricSources {
  db: Db;
  redis: Redis;
  queue: TrainQueue;
  queueName: string;
  compute: { readonly threads: number; readonly queued: number };
}

/** The BullMQ states reported as trainyard_queue_jobs. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

// Several API replicas may be scraped every few seconds each: the database and Redis are asked at most this often.
const JOB_COUNTS_TTL_MS = 2000;
const REDIS_TTL_MS = 1000;

/** Runs `load` at most once per `ttlMs`; callers within that time share its answer (or its failure). */
function cachedFor<T>(ttlMs: number, load: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= ttlMs) last = { at: now, value: load() };
    return last.value;
  };
}

/**
 * The API process's metrics. Labels are bounded: a route is its pattern
 * (`/v1/jobs/:id`, or `(unmatched)` for a 404 that matched none), never the
 * URL; the tenant label has one value per tenant, which operators create.
 * Gauges of the whole deployment (jobs, queue, workers) are read from
 * PostgreSQL and Redis at scrape time, so every API replica reports the same
 * values: aggregate them with max(), not sum().
 */
export class ApiMetrics {
  readonly registry: Registry = createMetricsRegistry();

  readonly httpDuration = new Histogram({
    name: 'trainyard_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status code; its _count is the request count.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly predictDuration = new Histogram({
    name: 'trainyard_predict_duration_seconds',
    help: 'Time to answer a prediction (any protocol): checks, image decoding, waiting for its batch and inference.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'trainyard_predict_batch_size',
    help: 'Instances per batch run on a compute thread (dynamic batching merges concurrent requests for one model).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });

  readonly modelCache = new Counter({
    name: 'trainyard_model_cache_lookups_total',
    help: 'Batches whose compute thread had the model loaded (result=hit) or had to load it from the artifact store (result=miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private sources: MetricSources | null = null;

  constructor() {
    const metrics = this;
    const jobCounts = cachedFor(JOB_COUNTS_TTL_MS, () => countJobsByTenantAndStatus(this.need().db));
    const queueCounts = cachedFor(REDIS_TTL_MS, () => this.need().queue.getJobCounts(...QUEUE_STATES));
    const workers = cachedFor(REDIS_TTL_MS, () => listWorkers(this.need().redis, this.need().queueName));
    const sourceUp = new Gauge({
      name: 'trainyard_metrics_source_up',
      help: 'Whether the last scrape could read its source (postgresql: job counts; redis: queue and worker heartbeats); 0 means those series are missing from it.',
      labelNames: ['source'] as const,
      registers: [this.registry],
    });
    /** The value of `read()`, or undefined (and the source marked down) when it fails. */
    const attempt = async <T>(source: 'postgresql' | 'redis', read: () => Promise<T>): Promise<T | undefined> => {
      try {
        const value = await read();
        sourceUp.labels(source).set(1);
        return value;
      } catch {
        sourceUp.labels(source).set(0);
        return undefined;
      }
    };

    new Gauge({
      name: 'trainyard_jobs',
      help: 'Jobs in each state, per tenant (PostgreSQL, all API replicas report the same).',
      labelNames: ['state', 'tenant'] as const,
      registers: [this.registry],
      async collect() {
        if (!metrics.sources) return;
        const counts: JobCount[] | undefined = await attempt('postgresql', jobCounts);
        this.reset();
        for (const c of counts ?? []) this.labels(c.status, c.tenantId).set(c.count);
      },
    });

    new Gauge({
      name: 'trainyard_queue_jobs',
      help: 'Entries of the training queue in each BullMQ state (Redis).',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        if (!metrics.sources) return;
        const counts = await attempt('redis', queueCounts);
        this.reset();
        if (counts) for (const state of QUEUE_STATES) this.labels(metrics.sources.queueName, state).set(counts[state] ?? 0);
      },
    });

    new Gauge({
      name: 'trainyard_heartbeat_workers',
      help: 'Workers whose heartbeat is in Redis (each refreshes it every 5 s; it expires after 15 s).',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        if (!metrics.sources) return;
        const list: WorkerStatus[] | undefined = await attempt('redis', workers);
        this.reset();
        if (list) this.labels(metrics.sources.queueName).set(list.length);
      },
    });

    new Gauge({
      name: 'trainyard_heartbeat_slots',
      help: 'Training slots of the workers with a live heartbeat, busy (training a job) or idle.',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        if (!metrics.sources) return;
        const list = await attempt('redis', workers);
        this.reset();
        if (!list) return;
        const busy = list.reduce((n, w) => n + Math.min(w.activeJobIds.length, w.concurrency), 0);
        const total = list.reduce((n, w) => n + w.concurrency, 0);
        this.labels(metrics.sources.queueName, 'busy').set(busy);
        this.labels(metrics.sources.queueName, 'idle').set(total - busy);
      },
    });

    new Gauge({
      name: 'trainyard_compute_threads',
      help: 'Compute threads of this API process (inference, image decoding, dataset parsing).',
      registers: [this.registry],
      collect() {
        if (metrics.sources) this.set(metrics.sources.compute.threads);
      },
    });

    new Gauge({
      name: 'trainyard_compute_queued_tasks',
      help: 'Compute tasks of this API process waiting for a thread.',
      registers: [this.registry],
      collect() {
        if (metrics.sources) this.set(metrics.sources.compute.queued);
      },
    });
  }

  /** Starts reporting the deployment's gauges from these sources (until then only this process's own metrics are reported). */
  watch(sources: MetricSources): void {
    this.sources = sources;
  }

  private need(): MetricSources {
    if (!this.sources) throw new Error('metric sources are not set');
    return this.sources;
  }

  /** What Serving reports about batches and answered predictions. */
  readonly serving: ServingObserver = {
    batch: (instances, cacheHit) => {
      this.batchSize.observe(instances);
      this.modelCache.labels(cacheHit ? 'hit' : 'miss').inc();
    },
    predicted: (seconds) => this.predictDuration.observe(seconds),
  };

  /** One answered HTTP request. */
  request(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    this.httpDuration.labels(method, route ?? '(unmatched)', String(statusCode)).observe(seconds);
  }
}
