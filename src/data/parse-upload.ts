import type { ArtifactStore } from '../storage/artifact-store.js';
import { saveDatasetFiles } from './dataset-files.js';
import { parseCsv, parseIdx, parseImageZip, parseNpy, type DatasetStats, type ParsedDataset } from './parsers/index.js';

/** Upload formats, the file parts each takes and the form options that shape its data. */
export const DATASET_FORMATS = {
  idx: { files: ['images', 'labels'], options: [] },
  csv: { files: ['file'], options: ['labelColumn'] },
  npy: { files: ['x', 'y'], options: [] },
  images: { files: ['file'], options: ['width', 'height', 'channels'] },
} as const;
export type DatasetFormat = keyof typeof DATASET_FORMATS;

export interface ParseUploadInput {
  format: DatasetFormat;
  /** Path of each received file part, by part name. */
  files: Record<string, string>;
  options: Record<string, string | number>;
  storageKey: string;
}

/** What the API keeps of a parsed upload: everything but the values, which are already stored. */
export interface ParsedUploadSummary {
  count: number;
  inputShape: number[];
  numClasses: number;
  classNames: string[];
  dtype: ParsedDataset['dtype'];
  stats: DatasetStats;
  sizeBytes: number;
}

function parse(format: DatasetFormat, files: Record<string, string>, options: Record<string, string | number>): Promise<ParsedDataset> {
  switch (format) {
    case 'idx':
      return parseIdx({ images: files.images, labels: files.labels });
    case 'csv':
      return parseCsv({ file: files.file, labelColumn: options.labelColumn as string | undefined });
    case 'npy':
      return parseNpy({ x: files.x, y: files.y });
    case 'images':
      return parseImageZip({ file: files.file, width: options.width as number, height: options.height as number, channels: options.channels as 1 | 3 });
  }
}

/**
 * Parses the received files and writes the examples under `storageKey`.
 * CPU- and memory-heavy: runs on a compute thread, and hands back only the
 * summary so no large array crosses threads. Throws DatasetFormatError.
 */
export async function parseAndStoreUpload(input: ParseUploadInput, store: ArtifactStore): Promise<ParsedUploadSummary> {
  const parsed = await parse(input.format, input.files, input.options);
  await saveDatasetFiles(store, input.storageKey, parsed);
  return {
    count: parsed.count,
    inputShape: parsed.inputShape,
    numClasses: parsed.numClasses,
    classNames: parsed.classNames,
    dtype: parsed.dtype,
    stats: parsed.stats,
    sizeBytes: parsed.x.byteLength + parsed.y.byteLength,
  };
}
