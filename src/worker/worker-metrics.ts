import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '../infra/metrics.js';
import type { TrainProgress } from '../queue/jobs.js';

/**
 * What one worker process tells Prometheus, on its own port (see
 * serveMetrics). Labels stay few and bounded: the engine (four names) and
 * the outcome of an attempt; never a job or tenant id.
 */
export class WorkerMetrics {
  readonly registry: Registry = createMetricsRegistry();

  readonly slots = new Gauge({
    name: 'trainyard_worker_slots',
    help: 'Jobs this worker can train at once (WORKER_CONCURRENCY).',
    registers: [this.registry],
  });

  readonly busySlots: Gauge;

  readonly heartbeat = new Gauge({
    name: 'trainyard_worker_heartbeat_timestamp_seconds',
    help: 'Unix time of the last heartbeat this worker wrote to Redis; a worker whose heartbeat is 15 s old drops out of GET /v1/workers.',
    registers: [this.registry],
  });

  readonly heartbeatFailures = new Counter({
    name: 'trainyard_worker_heartbeat_failures_total',
    help: 'Heartbeats that could not be written to Redis.',
    registers: [this.registry],
  });

  readonly engineInfo = new Gauge({
    name: 'trainyard_worker_engine_info',
    help: 'Always 1; the labels name the engine this worker trains on.',
    labelNames: ['engine', 'version'] as const,
    registers: [this.registry],
  });

  readonly epochDuration = new Histogram({
    name: 'trainyard_training_epoch_duration_seconds',
    help: 'Wall time of each finished training epoch, checkpoint excluded.',
    labelNames: ['engine'] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  readonly samples = new Counter({
    name: 'trainyard_training_samples_total',
    help: 'Training examples processed in finished epochs; rate() of it is the training throughput in samples per second.',
    labelNames: ['engine'] as const,
    registers: [this.registry],
  });

  readonly attempts = new Counter({
    name: 'trainyard_worker_job_attempts_total',
    help: 'Training attempts this worker ended, by outcome: succeeded, cancelled, skipped (the row was no longer queued), retrying (a failure another attempt may fix) or failed (final).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly engine: { name: string; version: string },
    concurrency: number,
    busy: () => number,
  ) {
    this.slots.set(concurrency);
    this.busySlots = new Gauge({
      name: 'trainyard_worker_busy_slots',
      help: 'Jobs this worker is training now.',
      registers: [this.registry],
      collect() {
        this.set(busy());
      },
    });
    this.engineInfo.labels(engine.name, engine.version).set(1);
  }

  /** Progress from a sandbox: the report at the end of an epoch carries its duration and size. */
  progress(progress: Partial<TrainProgress>): void {
    if (typeof progress.epochSeconds !== 'number' || typeof progress.epochSamples !== 'number') return;
    this.epochDuration.labels(this.engine.name).observe(progress.epochSeconds);
    this.samples.labels(this.engine.name).inc(progress.epochSamples);
  }

  beat(at = Date.now()): void {
    this.heartbeat.set(at / 1000);
  }
}
