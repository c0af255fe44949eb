/**
 * Dynamic batching (TF Serving's batching, Ray Serve's @serve.batch):
 * concurrent requests for the same key (model and preprocessing) run as one
 * batch of at most `maxBatchSize` instances. A batch starts when a slot (a
 * compute thread) is free and the batch is full or its first request has
 * waited `timeoutMicros`. With a timeout of 0 nothing waits while a slot is
 * free, and requests that arrive while every slot is busy queue up and go
 * together: batches grow with the load, latency stays low without it.
 * Requests are never split, and never mix keys.
 */
export interface BatcherOptions {
  maxBatchSize: number;
  timeoutMicros: number;
  /** Batches running at once: one per compute thread keeps the rest queued here, where they can merge. */
  slots: number;
}

export interface BatchOutput {
  /** `count * outputSize` values, row-major. */
  output: Float32Array;
  outputSize: number;
}

/** Runs one batch: `count` instances concatenated in `input`. */
export type BatchRunner = (input: Float32Array, count: number) => Promise<BatchOutput>;

interface Pending {
  /** Arrival time, ms on the performance clock. */
  at: number;
  input: Float32Array;
  count: number;
  resolve(out: BatchOutput): void;
  reject(err: unknown): void;
}

interface Group {
  key: string;
  run: BatchRunner;
  pending: Pending[];
  instances: number;
  /** When the oldest pending request arrived (ms, performance clock). */
  since: number;
}

export interface BatcherStats {
  requests: number;
  batches: number;
  instances: number;
  /** Largest batch run so far, in instances. */
  maxBatch: number;
  /** Requests waiting for a batch now. */
  waiting: number;
  running: number;
}

export class DynamicBatcher {
  private readonly groups = new Map<string, Group>();
  private running = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly counters = { requests: 0, batches: 0, instances: 0, maxBatch: 0 };

  constructor(private readonly options: BatcherOptions) {}

  /** Queues `count` instances for `key`; resolves with exactly their rows of the batch's output. */
  submit(key: string, input: Float32Array, count: number, run: BatchRunner): Promise<BatchOutput> {
    return new Promise((resolve, reject) => {
      let group = this.groups.get(key);
      if (!group) {
        group = { key, run, pending: [], instances: 0, since: performance.now() };
        this.groups.set(key, group);
      }
      group.pending.push({ at: performance.now(), input, count, resolve, reject });
      group.instances += count;
      this.counters.requests++;
      this.pump();
    });
  }

  stats(): BatcherStats {
    let waiting = 0;
    for (const g of this.groups.values()) waiting += g.pending.length;
    return { ...this.counters, waiting, running: this.running };
  }

  private pump(): void {
    while (this.running < this.options.slots) {
      const group = this.nextReady();
      if (!group) break;
      this.dispatch(group);
    }
    this.schedule();
  }

  /** The ready group that has waited longest: full, or past its timeout. */
  private nextReady(): Group | null {
    const now = performance.now();
    let best: Group | null = null;
    for (const g of this.groups.values()) {
      const ready = g.instances >= this.options.maxBatchSize || (now - g.since) * 1000 >= this.options.timeoutMicros;
      if (ready && (!best || g.since < best.since)) best = g;
    }
    return best;
  }

  /** With a timeout, wakes up when the oldest partial batch is due, in case no request arrives to do it. */
  private schedule(): void {
    if (this.timer || this.options.timeoutMicros === 0 || this.running >= this.options.slots || this.groups.size === 0) return;
    let oldest = Infinity;
    for (const g of this.groups.values()) oldest = Math.min(oldest, g.since);
    const delayMs = Math.max(0, oldest + this.options.timeoutMicros / 1000 - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, delayMs);
  }

  private dispatch(group: Group): void {
    const batch: Pending[] = [];
    let count = 0;
    while (group.pending.length > 0) {
      const next = group.pending[0];
      if (batch.length > 0 && count + next.count > this.options.maxBatchSize) break;
      batch.push(group.pending.shift()!);
      count += next.count;
    }
    group.instances -= count;
    if (group.pending.length === 0) this.groups.delete(group.key);
    else group.since = group.pending[0].at;

    this.running++;
    this.counters.batches++;
    this.counters.instances += count;
    this.counters.maxBatch = Math.max(this.counters.maxBatch, count);
    const input = batch.length === 1 ? batch[0].input : concat(batch, count);
    group
      .run(input, count)
      .then(
        ({ output, outputSize }) => {
          let row = 0;
          for (const p of batch) {
            p.resolve({ output: output.slice(row * outputSize, (row + p.count) * outputSize), outputSize });
            row += p.count;
          }
        },
        (err) => batch.forEach((p) => p.reject(err)),
      )
      .finally(() => {
        this.running--;
        this.pump();
      });
  }

  /** Rejects what still waits (the app is closing). */
  close(reason: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const g of this.groups.values()) g.pending.forEach((p) => p.reject(reason));
    this.groups.clear();
  }
}

function concat(batch: Pending[], count: number): Float32Array {
  const size = batch[0].input.length / batch[0].count;
  const out = new Float32Array(count * size);
  let at = 0;
  for (const p of batch) {
    out.set(p.input, at);
    at += p.input.length;
  }
  return out;
}
