/**
 * The parts of the /v1 API's answers the console reads (openapi.yaml has the
 * full schemas). Written here because the console talks to the API over HTTP
 * only and never imports server code.
 */

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelling' | 'cancelled';
export const JOB_STATUSES: JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelling', 'cancelled'];
export const FINAL_STATUSES: JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface EpochMetric {
  epoch: number;
  loss: number | null;
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  durationMs: number | null;
  samplesPerSec: number | null;
  /** The rate this epoch trained at (null for jobs trained before rates were recorded). */
  learningRate?: number | null;
  createdAt: string;
}

export interface JobProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batchesPerEpoch: number;
  percent: number;
  loss?: number | null;
  accuracy?: number | null;
}

export interface LayerSpec {
  type: string;
  name?: string;
  [field: string]: unknown;
}

export interface ModelSpec {
  version?: 1;
  input: { shape: number[] };
  layers: LayerSpec[];
}

export interface TrainingSpec {
  optimizer?: string;
  learningRate?: number;
  momentum?: number;
  epochs?: number;
  batchSize?: number;
  validationSplit?: number;
  testSplit?: number;
  seed?: number;
  normalization?: string;
  loss?: string;
  maxWallTimeSeconds?: number;
  earlyStopping?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface Job {
  id: string;
  name: string | null;
  status: JobStatus;
  dataset: { id: string; limit?: number };
  progress: JobProgress;
  metrics: EpochMetric | null;
  test: { loss: number | null; accuracy: number | null } | null;
  split: {
    train: number;
    validation: number;
    test: number;
    seed: number;
  } | null;
  plan: {
    totalParams: number;
    trainableParams: number;
    macs: number;
    outputShape: number[];
  };
  engine: { name: string; version: string; [k: string]: unknown } | null;
  attempts: number;
  stopReason: string | null;
  /** The sweep this job is a trial of; null for a job submitted on its own. */
  sweepId?: string | null;
  history?: {
    status: string;
    at: string;
    attempt?: number;
    reason?: string;
    error?: { code: string; message: string };
  }[];
  spec?: { model: ModelSpec; training: TrainingSpec };
  modelId: string | null;
  register: { name: string } | null;
  registeredAs: { name: string; version: number } | null;
  error: { code: string; message: string } | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface WindowAxis {
  input: number;
  window: number;
  stride: number;
  padBefore: number;
  padAfter: number;
  output: number;
  formula: string;
}

export interface LayerPlan {
  index: number;
  name: string;
  type: string;
  inputShape: number[];
  outputShape: number[];
  params: number;
  trainableParams: number;
  nonTrainableParams: number;
  macs: number;
  paramsWithoutSharing?: number;
  window?: { padding: string; rows: WindowAxis; cols: WindowAxis };
  branches?: LayerPlan[][];
}

export interface ModelPlan {
  inputShape: number[];
  outputShape: number[];
  layers: LayerPlan[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  macs: number;
  weightBytes: number;
  limits: { maxParams: number; maxMacs: number; exceeded: string[] };
}

export interface Model {
  id: string;
  jobId: string;
  name: string | null;
  inputShape: number[];
  numClasses: number;
  classNames: string[];
  metrics: {
    epochs: number;
    loss: number | null;
    accuracy: number | null;
    valLoss: number | null;
    valAccuracy: number | null;
    testLoss: number | null;
    testAccuracy: number | null;
  };
  preprocessing: {
    inputShape: number[];
    valueRange: number[];
    outputs: string;
    normalization?: { kind: string; offset: number[]; scale: number[] };
    image?: {
      width: number;
      height: number;
      channels: number;
      valueScale: number;
    } | null;
  };
  spec: ModelSpec;
  engine: { name: string; version: string };
  sizeBytes: number;
  createdAt: string;
}

export interface Prediction {
  modelId: string;
  predictions: number[][];
  classes: number[];
  labels: string[];
}

export interface ModelVersion {
  name: string;
  version: number;
  modelId: string;
  aliases: string[];
  lineage: {
    jobId: string;
    datasetId: string;
    datasetLimit: number | null;
    hyperparameters: Record<string, unknown>;
    metrics: Record<string, number | null>;
    engine: { name: string; version: string };
  };
  createdAt: string;
}

export interface RegisteredModelSummary {
  name: string;
  lastVersion: number;
  aliases: { alias: string; version: number }[];
  versionCount: number;
  latest: ModelVersion | null;
  updatedAt: string;
}

export interface RegisteredModel {
  name: string;
  aliases: { alias: string; version: number }[];
  versions: ModelVersion[];
}

export interface Dataset {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  format: string;
  examples: number;
  inputShape: number[];
  numClasses: number;
  classNames: string[];
  perClassCounts: number[] | null;
  valueRange: number[];
  mean: number[] | null;
  std: number[] | null;
  dtype: string;
  image: { width: number; height: number; channels: number } | null;
  sizeBytes: number | null;
  uploadBytes: number | null;
  createdAt: string | null;
  preview?: {
    thumbnails?: { label: string; dataUrl: string }[];
    rows?: { label: string; values: number[]; truncated: boolean }[];
  };
}

export type SweepStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export const SWEEP_STATUSES: SweepStatus[] = ['running', 'succeeded', 'failed', 'cancelled'];
export type SweepMetric = 'valAccuracy' | 'valLoss' | 'accuracy' | 'loss';
export const SWEEP_METRICS: SweepMetric[] = ['valAccuracy', 'valLoss', 'accuracy', 'loss'];
export type SweepAlgorithm = 'grid' | 'random' | 'tpe';

/** One dimension of a search space: exactly one of these keys. */
export type Distribution = { uniform: [number, number] } | { logUniform: [number, number] } | { intUniform: [number, number] } | { values: unknown[] };

export interface SweepEarlyStopping {
  type: 'asha' | 'median';
  minEpochs: number;
  reductionFactor?: number;
  minTrials?: number;
}

export interface SweepProgress {
  trials: number;
  queued: number;
  running: number;
  succeeded: number;
  earlyStopped: number;
  failed: number;
  cancelled: number;
}

export interface SweepBest {
  trial: number;
  jobId: string;
  modelId: string | null;
  params: Record<string, unknown>;
  objective: number;
  epochs: number;
}

export interface SweepTrial {
  index: number;
  jobId: string;
  params: Record<string, unknown>;
  status: JobStatus;
  /** The objective metric at the last epoch trained. */
  objective: number | null;
  epochs: number;
  /** Why early stopping ended it (it is `succeeded` then). */
  stopReason: string | null;
  attempts: number;
  error: { code: string; message: string } | null;
}

export interface Sweep {
  id: string;
  name: string | null;
  status: SweepStatus;
  algorithm: SweepAlgorithm;
  objective: { metric: SweepMetric; goal: 'maximize' | 'minimize' };
  space: Record<string, Distribution>;
  maxTrials: number;
  parallelism: number;
  seed: number;
  earlyStopping: SweepEarlyStopping | null;
  /** GET /v1/sweeps/{id} only. */
  base?: { model: ModelSpec; training: TrainingSpec; dataset: { id: string; limit?: number } };
  progress: SweepProgress;
  /** GET /v1/sweeps/{id} only, by index. */
  trials?: SweepTrial[];
  best: SweepBest | null;
  error: { code: string; message: string } | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}
