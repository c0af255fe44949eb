import type { DatasetStats } from './parsers/index.js';

/** What the catalogue says about a dataset, built-in or uploaded. */
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
