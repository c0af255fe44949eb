import { createHash, randomUUID } from 'node:crypto';
import type { AppConfig } from '../../config/config.js';
import { formatCount } from '../../model-spec/index.js';
import { tenantQuotas } from '../../storage/quotas.repository.js';
import type { Db } from '../../storage/prisma.js';
import type { ArtifactStore } from '../../storage/artifact-store.js';
import * as repo from '../../storage/datasets.repository.js';
import { datasetStorageKey } from '../../data/dataset-files.js';
import { DATASET_FORMATS, type DatasetFormat } from '../../data/parse-upload.js';
import type { ComputePool } from '../../compute/compute-pool.js';
import { InvalidRequestError, QuotaExceededError } from '../errors/index.js';

const COMMON_FIELDS = ['format', 'name'];

/** A received upload: its text fields, and its file parts already on disk (the caller removes them). */
export interface DatasetUpload {
  fields: Record<string, string>;
  files: Record<string, { path: string; bytes: number; sha256: string }>;
}

export interface DatasetsDeps {
  db: Db;
  artifacts: ArtifactStore;
  config: AppConfig;
  compute: ComputePool;
}

function intOption(fields: Record<string, string>, name: string, min: number, max: number, fallback?: number): number {
  const raw = fields[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new InvalidRequestError(`form field '${name}' is required for this format (an integer from ${min} to ${max})`, [{ field: name, message: 'is required' }]);
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidRequestError(`form field '${name}' must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`, [
      { field: name, message: `an integer from ${min} to ${max}` },
    ]);
  }
  return n;
}

/** Checks the form against its format; returns the options that shape the data. */
function readForm(upload: DatasetUpload): { format: DatasetFormat; name: string | null; options: Record<string, string | number> } {
  const format = upload.fields.format;
  if (!format || !(format in DATASET_FORMATS)) {
    throw new InvalidRequestError(`form field 'format' must be one of ${Object.keys(DATASET_FORMATS).join(', ')}, got ${JSON.stringify(format ?? null)}`, [
      { field: 'format', message: `one of ${Object.keys(DATASET_FORMATS).join(', ')}` },
    ]);
  }
  const spec = DATASET_FORMATS[format as DatasetFormat];
  for (const field of Object.keys(upload.fields)) {
    if (!COMMON_FIELDS.includes(field) && !(spec.options as readonly string[]).includes(field)) {
      throw new InvalidRequestError(`form field '${field}' is not used by format '${format}'; allowed: ${[...COMMON_FIELDS, ...spec.options].join(', ')}`, [
        { field, message: 'not allowed' },
      ]);
    }
  }
  for (const part of Object.keys(upload.files)) {
    if (!(spec.files as readonly string[]).includes(part)) {
      throw new InvalidRequestError(`file part '${part}' is not used by format '${format}'; it takes ${spec.files.map((f) => `'${f}'`).join(' and ')}`, [
        { field: part, message: 'not allowed' },
      ]);
    }
  }
  for (const part of spec.files) {
    if (!upload.files[part]) throw new InvalidRequestError(`format '${format}' needs the file part '${part}'`, [{ field: part, message: 'is required' }]);
  }
  const name = upload.fields.name?.trim() || null;
  if (name && name.length > 200) throw new InvalidRequestError("form field 'name' must be at most 200 characters", [{ field: 'name', message: 'too long' }]);
  const options: Record<string, string | number> = {};
  if (format === 'csv' && upload.fields.labelColumn) options.labelColumn = upload.fields.labelColumn;
  if (format === 'images') {
    options.width = intOption(upload.fields, 'width', 1, 1024);
    options.height = intOption(upload.fields, 'height', 1, 1024);
    const channels = intOption(upload.fields, 'channels', 1, 3, 1);
    if (channels === 2) throw new InvalidRequestError("form field 'channels' must be 1 (grayscale) or 3 (RGB), got 2", [{ field: 'channels', message: '1 or 3' }]);
    options.channels = channels;
  }
  return { format: format as DatasetFormat, name, options };
}

/**
 * Receives, validates, parses and stores an uploaded dataset. Identical
 * content (same format, options and files) returns the existing dataset.
 * Nothing is stored unless everything succeeded.
 */
export async function uploadDataset(deps: DatasetsDeps, tenantId: string, upload: DatasetUpload): Promise<{ row: repo.DatasetRow; created: boolean }> {
  const { format, name, options } = readForm(upload);
  const spec = DATASET_FORMATS[format];
  const contentHash = createHash('sha256')
    .update(JSON.stringify({ format, options, files: spec.files.map((f) => [f, upload.files[f].sha256]) }))
    .digest('hex');
  const existing = await repo.findDatasetByHash(deps.db, tenantId, contentHash);
  if (existing) return { row: existing, created: false };

  // Parsing and writing the examples happen on a compute thread; only a summary comes back.
  const id = randomUUID();
  const storageKey = datasetStorageKey(id);
  const result = await deps.compute.run({
    kind: 'parse-dataset',
    format,
    files: Object.fromEntries(Object.entries(upload.files).map(([part, f]) => [part, f.path])),
    options,
    storageKey,
  });
  if (!result.ok) throw new InvalidRequestError(result.message, [{ field: result.field, message: result.message }], 'invalid-dataset');
  const parsed = result.value;
  try {
    const quota = (await tenantQuotas(deps.db, deps.config, tenantId)).datasetBytes;
    const stored = await repo.storedDatasetBytes(deps.db, tenantId);
    if (stored + parsed.sizeBytes > quota) {
      throw new QuotaExceededError(
        'datasetBytes',
        quota,
        stored + parsed.sizeBytes,
        `tenant '${tenantId}' would store ${formatCount(stored + parsed.sizeBytes)} bytes of datasets, over its limit of ${formatCount(quota)}; delete datasets first`,
      );
    }
    const row = await repo.createDataset(deps.db, {
      id,
      tenantId,
      name: name ?? `${format} upload`,
      format,
      examples: parsed.count,
      inputShape: parsed.inputShape,
      numClasses: parsed.numClasses,
      classNames: parsed.classNames,
      dtype: parsed.dtype,
      stats: parsed.stats as object,
      options,
      uploadBytes: Object.values(upload.files).reduce((n, f) => n + f.bytes, 0),
      sizeBytes: parsed.sizeBytes,
      contentHash,
      storageKey,
    });
    return { row, created: true };
  } catch (err) {
    await deps.artifacts.remove(storageKey);
    // The same upload raced us: answer with the winner.
    const raced = await repo.findDatasetByHash(deps.db, tenantId, contentHash);
    if (raced) return { row: raced, created: false };
    throw err;
  }
}
