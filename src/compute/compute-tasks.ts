import type { Preprocessing } from '../storage/model-artifacts.js';
import type { ParsedUploadSummary, ParseUploadInput } from '../data/parse-upload.js';
import type { DatasetInfo } from '../data/datasets.js';
import type { DatasetPreview } from '../data/dataset-preview.js';
import type { ReadInstances } from '../predict/preprocess.js';
import type { EngineInfo, EnginePreference } from '../engine/select-engine.js';
import type { ArtifactStoreSettings } from '../storage/artifact-store.js';

/**
 * The contract between the API process and its compute threads: one task
 * type per kind of heavy work. Inputs and outputs are structured-cloneable;
 * large buffers are transferred, not copied.
 */
export interface ComputeThreadOptions {
  ENGINE: EnginePreference;
  /** Threads of the native engine in each compute thread. */
  ENGINE_THREADS: number;
  /** The artifact store each thread opens (disk or object store): models to serve, datasets to store and preview. */
  STORAGE: ArtifactStoreSettings;
  MODEL_CACHE_SIZE: number;
}

/** A batch of normalised inputs for one model: `count` instances of `inputShape`, row-major. */
export interface PredictTask {
  kind: 'predict';
  modelId: string;
  artifactKey: string;
  inputShape: number[];
  count: number;
  input: Float32Array;
  /** The model ends in logits: turn them into probabilities. */
  softmax: boolean;
}

export interface DecodeImagesTask {
  kind: 'decode-images';
  images: ReadInstances['images'];
  image: NonNullable<Preprocessing['image']>;
  /** Instances in the request (the output has a slot for each; only the images' slots are written). */
  count: number;
  path: string;
}

export interface ParseDatasetTask extends ParseUploadInput {
  kind: 'parse-dataset';
}

export interface DatasetPreviewTask {
  kind: 'dataset-preview';
  info: DatasetInfo;
  storageKey: string | null;
}

export interface EngineTask {
  kind: 'engine';
}

export type ComputeTask = PredictTask | DecodeImagesTask | ParseDatasetTask | DatasetPreviewTask | EngineTask;

/** A failure the user caused, named by field; anything else is thrown and becomes a 500. */
export interface TaskFailure {
  ok: false;
  kind: 'instance' | 'dataset';
  field: string;
  message: string;
}

export type TaskResult<T> = { ok: true; value: T } | TaskFailure;

/**
 * What a thread answers when the object store is away. Errors lose their
 * class on the way between threads, so the pool turns this back into an
 * ObjectStoreUnavailableError on the API's side (503 naming the store).
 */
export interface TaskOutage {
  ok: false;
  kind: 'object-store-unavailable';
  message: string;
}

export interface ComputeResults {
  /** `cacheHit`: the thread had the model loaded (or loading) already. */
  predict: { output: Float32Array; outputSize: number; cacheHit: boolean };
  'decode-images': Float32Array;
  'parse-dataset': ParsedUploadSummary;
  'dataset-preview': DatasetPreview;
  engine: EngineInfo;
}
