import type * as tf from '@tensorflow/tfjs';

/**
 * Keeps up to `capacity` loaded models in memory, least recently used out
 * first. Concurrent requests for a model that is loading share one load.
 */
export class ModelCache<M extends { dispose(): void } = tf.LayersModel> {
  private readonly entries = new Map<string, Promise<M>>();

  constructor(
    private readonly capacity: number,
    private readonly load: (key: string) => Promise<M>,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  async get(key: string): Promise<M> {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    entry = this.load(key);
    this.entries.set(key, entry);
    entry.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    this.evict();
    return entry;
  }

  private evict(): void {
    while (this.entries.size > this.capacity) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Promise<M>];
      this.entries.delete(oldest);
      entry.then(
        (m) => m.dispose(),
        () => undefined,
      );
    }
  }

  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      all.map((e) =>
        e.then(
          (m) => m.dispose(),
          () => undefined,
        ),
      ),
    );
  }
}
