import { describe, expect, it } from 'vitest';
import { ModelCache } from '../../src/predict/model-cache.js';

class Fake {
  disposed = false;
  constructor(readonly key: string) {}
  dispose() {
    this.disposed = true;
  }
}

describe('ModelCache', () => {
  it('loads once, shares concurrent loads and evicts the least recently used', async () => {
    const loads: string[] = [];
    const cache = new ModelCache<Fake>(2, async (key) => {
      loads.push(key);
      return new Fake(key);
    });
    const [a1, a2] = await Promise.all([cache.get('a'), cache.get('a')]);
    expect(a1).toBe(a2);
    await cache.get('b');
    await cache.get('a'); // a is now most recent
    await cache.get('c'); // evicts b
    expect(loads).toEqual(['a', 'b', 'c']);
    expect(cache.has('b')).toBe(false);
    expect(cache.has('a')).toBe(true);
    await new Promise((r) => setImmediate(r));
    await cache.get('b');
    expect(loads).toEqual(['a', 'b', 'c', 'b']);
    expect(a1.disposed).toBe(true);
  });

  it('forgets failed loads so that the next request retries', async () => {
    let attempts = 0;
    const cache = new ModelCache<Fake>(2, async (key) => {
      attempts++;
      if (attempts === 1) throw new Error('disk hiccup');
      return new Fake(key);
    });
    await expect(cache.get('x')).rejects.toThrow('disk hiccup');
    await new Promise((r) => setImmediate(r));
    await expect(cache.get('x')).resolves.toBeInstanceOf(Fake);
  });
});
