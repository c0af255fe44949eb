import { loadMnist, type LoadedDataset } from './mnist.dataset.js';

export type { LoadedDataset } from './mnist.dataset.js';

/** Loads a dataset's examples for training. Unknown ids are a programming error here: the API checked them. */
export async function loadDataset(id: string, limit?: number): Promise<LoadedDataset> {
  switch (id) {
    case 'mnist':
      return loadMnist(limit);
    default:
      throw new Error(`dataset '${id}' is not available on this worker`);
  }
}
