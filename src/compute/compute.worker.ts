import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { ModelCache } from '../predict/model-cache.js';
import { decodeImagesInto, InstanceError } from '../predict/preprocess.js';
import { createArtifactStore } from '../storage/artifact-store.js';
import { isObjectStoreUnavailable } from '../infra/object-store-unavailable.error.js';
import { loadModelArtifact } from '../storage/model-artifacts.js';
import { parseAndStoreUpload } from '../data/parse-upload.js';
import { datasetPreview } from '../data/dataset-preview.js';
import { DatasetFormatError } from '../data/parsers/index.js';
import { selectEngine, type EngineInfo } from '../engine/select-engine.js';
import type { ComputeTask, ComputeThreadOptions, DecodeImagesTask, PredictTask, TaskOutage, TaskResult } from './compute-tasks.js';

/**
 * One compute thread of the API process. Each thread has its own tfjs
 * engine (a wasm instance of its own) and its own cache of loaded models;
 * the engine starts on the first task that needs it.
 */
const options = workerData as ComputeThreadOptions;
const COMPUTE_NICE = 10;

/**
 * The event loop that answers HTTP must never wait for the CPU behind
 * inference: it only parses and replies, and while it runs, requests pile up
 * in the batcher and go to the threads as larger, cheaper batches. So compute
 * threads run at a lower priority (Linux: a thread's own nice value, set
 * through its thread id; elsewhere nothing happens).
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, COMPUTE_NICE);
  } catch {
    // Not Linux, or not allowed: the threads keep the process's priority.
  }
}
lowerPriority();
const artifacts = createArtifactStore(options.STORAGE);
let engine: Promise<EngineInfo> | null = null;
const models = new ModelCache<tf.LayersModel>(options.MODEL_CACHE_SIZE, (key) => loadModelArtifact(artifacts, key));

function startEngine(): Promise<EngineInfo> {
  engine ??= selectEngine(options.ENGINE, { threads: options.ENGINE_THREADS ?? 1 });
  return engine;
}

async function predict(task: PredictTask) {
  await startEngine();
  const cacheHit = models.has(task.artifactKey);
  const model = await models.get(task.artifactKey);
  const out = tf.tidy(() => {
    const y = model.predict(tf.tensor(task.input, [task.count, ...task.inputShape])) as tf.Tensor;
    return task.softmax ? tf.softmax(y) : y;
  });
  try {
    const output = (await out.data()) as Float32Array;
    return { output, outputSize: out.size / task.count, cacheHit };
  } finally {
    out.dispose();
  }
}

function decodeImages(task: DecodeImagesTask): Float32Array {
  const size = task.image.width * task.image.height * task.image.channels;
  const out = new Float32Array(task.count * size);
  decodeImagesInto(task.images, task.image, out, task.path);
  return out;
}

/** A result whose buffers move to the API thread instead of being copied. */
function transferring<T>(value: T, buffers: ArrayBufferLike[]): unknown {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: { ok: true, value } } as never);
}

async function run(task: ComputeTask): Promise<unknown> {
  switch (task.kind) {
    case 'predict': {
      const result = await predict(task);
      return transferring(result, [result.output.buffer]);
    }
    case 'decode-images': {
      const pixels = decodeImages(task);
      return transferring(pixels, [pixels.buffer]);
    }
    case 'parse-dataset': {
      const { kind: _kind, ...input } = task;
      return { ok: true, value: await parseAndStoreUpload(input, artifacts) };
    }
    case 'dataset-preview':
      return { ok: true, value: await datasetPreview(task.info, artifacts, task.storageKey) };
    case 'engine':
      return { ok: true, value: await startEngine() };
  }
}

export default async function handle(task: ComputeTask): Promise<TaskResult<unknown> | TaskOutage> {
  try {
    return (await run(task)) as TaskResult<unknown>;
  } catch (err) {
    if (err instanceof InstanceError) return { ok: false, kind: 'instance', field: err.field, message: err.message };
    if (err instanceof DatasetFormatError) return { ok: false, kind: 'dataset', field: err.field, message: err.message };
    if (isObjectStoreUnavailable(err)) return { ok: false, kind: 'object-store-unavailable', message: (err as Error).message };
    throw err;
  }
}
