import type { ComputePool } from '../compute/compute-pool.js';
import type { Preprocessing } from '../storage/model-artifacts.js';
import { DynamicBatcher, type BatcherStats, type BatchOutput } from './batcher.js';
import { checkValueRange, InstanceError, normalizeInPlace, readInstances } from './preprocess.js';

/** What serving needs of a trained model. */
export interface ServableModel {
  id: string;
  artifactKey: string;
  preprocessing: Preprocessing;
}

export interface ServingOptions {
  maxBatchSize: number;
  timeoutMicros: number;
  /** Told about every batch and every answered request (the API's metrics). */
  observer?: ServingObserver;
}

export interface ServingObserver {
  /** A batch ran on a compute thread: its size in instances, and whether that thread had the model loaded already. */
  batch(instances: number, cacheHit: boolean): void;
  /** A prediction was answered, `seconds` after it was asked for (checks, decoding, waiting for its batch, inference). */
  predicted(seconds: number): void;
}

export interface ServingResult extends BatchOutput {
  count: number;
}

/**
 * Predictions for every protocol (the /v1 API, TF Serving, KServe v2). On
 * the event loop it only checks shapes and copies numbers; images are
 * decoded and models run on the compute threads, and concurrent requests for
 * one model are batched.
 */
export class Serving {
  private readonly batcher: DynamicBatcher;
  private readonly observer: ServingObserver | undefined;

  constructor(
    private readonly pool: ComputePool,
    options: ServingOptions,
  ) {
    this.observer = options.observer;
    this.batcher = new DynamicBatcher({ maxBatchSize: options.maxBatchSize, timeoutMicros: options.timeoutMicros, slots: pool.threads });
  }

  /**
   * Class probabilities (or the model's outputs) for `instances`, each nested
   * in the input shape, flat, or {"b64": ...} for image models. Throws
   * InstanceError naming the instance at fault; `path` is how the request
   * calls the instances (`instances`, `inputs[0].data`).
   */
  async predict(model: ServableModel, instances: unknown[], path = 'instances'): Promise<ServingResult> {
    const started = performance.now();
    const pre = model.preprocessing;
    const read = readInstances(instances, pre.inputShape, pre, path);
    if (read.images.length > 0 && pre.image) {
      const decoded = await this.pool.run({ kind: 'decode-images', images: read.images, image: pre.image, count: read.count, path });
      if (!decoded.ok) throw new InstanceError(decoded.field, decoded.message);
      const size = read.raw.length / read.count;
      for (const { index } of read.images) read.raw.set(decoded.value.subarray(index * size, (index + 1) * size), index * size);
    }
    checkValueRange(read, pre, path);
    const input = normalizeInPlace(read.raw, pre.normalization);
    const softmax = pre.outputs === 'logits';
    // Everything that shapes a batch's input or output is in the key, so different preprocessing never mixes.
    const key = `${model.id}:${softmax ? 'softmax' : 'raw'}`;
    const out = await this.batcher.submit(key, input, read.count, async (batch, count) => {
      const result = await this.pool.run({ kind: 'predict', modelId: model.id, artifactKey: model.artifactKey, inputShape: pre.inputShape, count, input: batch, softmax }, [
        batch.buffer,
      ]);
      if (!result.ok) throw new Error(result.message);
      this.observer?.batch(count, result.value.cacheHit);
      return result.value;
    });
    this.observer?.predicted((performance.now() - started) / 1000);
    return { ...out, count: read.count };
  }

  stats(): BatcherStats & { threads: number; queuedTasks: number } {
    return { ...this.batcher.stats(), threads: this.pool.threads, queuedTasks: this.pool.queued };
  }

  close(): void {
    this.batcher.close(new Error('the server is shutting down'));
  }
}

/** Rows of a batch output, for JSON answers. */
export function outputRows({ output, outputSize, count }: ServingResult): number[][] {
  return Array.from({ length: count }, (_, i) => Array.from(output.subarray(i * outputSize, (i + 1) * outputSize)));
}
