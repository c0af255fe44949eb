import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { EngineInfo } from '../engine/select-engine.js';

/**
 * Worker heartbeats: every worker process keeps a small status document in
 * Redis under a key that expires unless refreshed, so the set of keys is
 * the set of live workers. A worker that stops cleanly deletes its key; one
 * that dies disappears after the TTL.
 */

/** One worker process as it last reported itself; also the response schema of an API route listing workers. */
export const WorkerStatusSchema = Type.Object({
  host: Type.String({ description: 'Host name of the worker process.' }),
  pid: Type.Integer(),
  queue: Type.String({ description: 'Queue it takes jobs from.' }),
  engine: Type.Object(
    {
      name: Type.String({ description: 'tensorflow (tfjs-node), native (oneDNN add-on), wasm or cpu: the engine its jobs train on.' }),
      version: Type.String({ description: 'tfjs version.' }),
      simd: Type.Optional(Type.Boolean({ description: 'wasm and native: whether the SIMD build runs.' })),
      threads: Type.Optional(Type.Boolean()),
      threadCount: Type.Optional(Type.Integer({ description: "Threads of the engine's kernels in each training process (native: ENGINE_THREADS)." })),
      library: Type.Optional(Type.String({ description: 'native: the kernel library (oneDNN).' })),
      libraryVersion: Type.Optional(Type.String({ description: "native: the library's version." })),
      implementation: Type.Optional(Type.String({ description: 'native: the implementation the library picks for convolutions here, e.g. jit:avx512_core.' })),
      kernels: Type.Optional(Type.Array(Type.String(), { description: "wasm: Trainyard's training kernels in place; native: the kernels that run in the add-on." })),
      fallbackReason: Type.Optional(Type.String({ description: 'ENGINE=auto: why faster engines were passed over.' })),
    },
    { additionalProperties: true },
  ),
  concurrency: Type.Integer({ description: 'Jobs it trains at once.' }),
  activeJobIds: Type.Array(Type.String(), { description: 'Jobs it is training now.' }),
  metricsPort: Type.Optional(Type.Integer({ description: 'Port of its Prometheus /metrics on its host (WORKER_METRICS_PORT, or the free port it fell back to).' })),
  startedAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time', description: 'Its last heartbeat; a worker silent for 3 intervals drops out of the list.' }),
});
export type WorkerStatus = Static<typeof WorkerStatusSchema>;

export const HEARTBEAT_INTERVAL_MS = 5000;

/** `trainyard:<queue>:workers:<host>:<pid>` */
export function workerStatusKey(queueName: string, host: string, pid: number): string {
  return `${workersPrefix(queueName)}${host}:${pid}`;
}

function workersPrefix(queueName: string): string {
  return `trainyard:${queueName}:workers:`;
}

export interface HeartbeatOptions {
  queueName: string;
  engine: EngineInfo;
  concurrency: number;
  /** Read at every beat. */
  activeJobIds: () => string[];
  intervalMs?: number;
  /** Where its /metrics listens, if it serves them. */
  metricsPort?: number;
  /** How long a status outlives its last refresh; default 3 intervals, so one slow beat is not a death. */
  ttlMs?: number;
  host?: string;
  pid?: number;
  onError?: (err: Error) => void;
  /** After each heartbeat Redis took. */
  onBeat?: () => void;
}

export interface Heartbeat {
  readonly key: string;
  /** Writes the status now (also done every interval); never throws, reports through onError. */
  beat(): Promise<void>;
  /** Stops beating and deletes the status. */
  stop(): Promise<void>;
}

/** Writes this worker's status at once and then every interval. */
export async function startHeartbeat(redis: Redis, options: HeartbeatOptions): Promise<Heartbeat> {
  const intervalMs = options.intervalMs ?? HEARTBEAT_INTERVAL_MS;
  const ttlMs = options.ttlMs ?? 3 * intervalMs;
  const host = options.host ?? hostname();
  const pid = options.pid ?? process.pid;
  const key = workerStatusKey(options.queueName, host, pid);
  const startedAt = new Date().toISOString();
  let stopped = false;

  const beat = async (): Promise<void> => {
    if (stopped) return;
    const status: WorkerStatus & { engine: EngineInfo } = {
      host,
      pid,
      queue: options.queueName,
      engine: options.engine,
      concurrency: options.concurrency,
      activeJobIds: options.activeJobIds(),
      ...(options.metricsPort === undefined ? {} : { metricsPort: options.metricsPort }),
      startedAt,
      lastSeenAt: new Date().toISOString(),
    };
    try {
      await redis.set(key, JSON.stringify(status), 'PX', ttlMs);
      options.onBeat?.();
    } catch (err) {
      options.onError?.(err as Error);
    }
  };

  await beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    key,
    beat,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await redis.del(key).catch((err: Error) => options.onError?.(err));
    },
  };
}

const SCAN_COUNT = 200;

/**
 * The live workers of `queueName`, by host then pid. Statuses that expire
 * between the scan and the read, or that do not match WorkerStatusSchema,
 * are left out.
 */
export async function listWorkers(redis: Redis, queueName: string): Promise<WorkerStatus[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${workersPrefix(queueName)}*`, 'COUNT', SCAN_COUNT);
    for (const key of batch) keys.add(key);
    cursor = next;
  } while (cursor !== '0');
  if (keys.size === 0) return [];
  const values = await redis.mget(...keys);
  const workers: WorkerStatus[] = [];
  for (const value of values) {
    if (value === null) continue;
    let status: unknown;
    try {
      status = JSON.parse(value);
    } catch {
      continue;
    }
    // A value under our prefix that is not a status (another version's, a hand-made key) is left out.
    if (Value.Check(WorkerStatusSchema, status)) workers.push(status);
  }
  return workers.sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid);
}
