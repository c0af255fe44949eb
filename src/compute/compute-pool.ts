import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { AppConfig } from '../config/config.js';
import { ObjectStoreUnavailableError } from '../infra/object-store-unavailable.error.js';
import { artifactStoreSettings } from '../storage/artifact-store.js';
import type { ComputeResults, ComputeTask, ComputeThreadOptions, TaskOutage, TaskResult } from './compute-tasks.js';

type TaskOf<K extends ComputeTask['kind']> = Extract<ComputeTask, { kind: K }>;

/**
 * The API process's worker threads: inference, image decoding and dataset
 * parsing run here, never on the event loop that answers HTTP. Threads start
 * on first use (or on {@link ComputePool.start}), so an API that never
 * predicts or parses pays nothing for them.
 */
export class ComputePool {
  readonly threads: number;
  /** The engine the threads run, once {@link start} has run. */
  engine: ComputeResults['engine'] | null = null;
  private pool: Piscina | null = null;
  private closed = false;

  constructor(private readonly options: ComputeThreadOptions & { threads: number }) {
    this.threads = options.threads;
  }

  static fromConfig(config: AppConfig): ComputePool {
    return new ComputePool({
      threads: config.COMPUTE_THREADS || availableParallelism(),
      ENGINE: config.ENGINE,
      ENGINE_THREADS: config.ENGINE_THREADS,
      STORAGE: artifactStoreSettings(config),
      MODEL_CACHE_SIZE: config.MODEL_CACHE_SIZE,
    });
  }

  private piscina(): Piscina {
    if (this.closed) throw new Error('the compute pool is closed');
    this.pool ??= new Piscina({
      filename: new URL('./compute-thread.mjs', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      workerData: {
        ENGINE: this.options.ENGINE,
        ENGINE_THREADS: this.options.ENGINE_THREADS,
        STORAGE: this.options.STORAGE,
        MODEL_CACHE_SIZE: this.options.MODEL_CACHE_SIZE,
      } satisfies ComputeThreadOptions,
    });
    return this.pool;
  }

  async run<K extends ComputeTask['kind']>(task: TaskOf<K>, transferList: ArrayBufferLike[] = []): Promise<TaskResult<ComputeResults[K]>> {
    const result: TaskResult<ComputeResults[K]> | TaskOutage = await this.piscina().run(task, { transferList: transferList as ArrayBuffer[] });
    if (!result.ok && result.kind === 'object-store-unavailable') throw new ObjectStoreUnavailableError(result.message);
    return result;
  }

  /** Starts every thread and its engine now; returns the engine they run. */
  async start(): Promise<ComputeResults['engine']> {
    const results = await Promise.all(Array.from({ length: this.threads }, () => this.run({ kind: 'engine' })));
    const first = results[0];
    if (!first.ok) throw new Error(first.message);
    this.engine = first.value;
    return first.value;
  }

  /** Tasks waiting for a free thread. */
  get queued(): number {
    return this.pool?.queueSize ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.destroy();
    this.pool = null;
  }
}
