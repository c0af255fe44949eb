import type { Db } from '../storage/prisma.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import * as repo from '../storage/datasets.repository.js';
import { loadMnist, type LoadedDataset } from './mnist.dataset.js';
import { loadDatasetFiles } from './dataset-files.js';
import type { DatasetInfo } from './dataset-info.js';
import { builtinDataset, MNIST } from './builtin-datasets.js';

export type { DatasetInfo } from './dataset-info.js';
export { BUILTIN_DATASETS, MNIST, MNIST_CONTENT_HASH, builtinDataset } from './builtin-datasets.js';

/*
 * The dataset catalogue: built-in datasets (shipped with the service, nothing
 * downloaded at run time) plus each tenant's uploads.
 */

export function datasetInfoOf(row: repo.DatasetRow): DatasetInfo {
  const { stats, options } = row;
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
