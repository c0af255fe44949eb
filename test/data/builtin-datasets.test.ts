import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist.dataset.js';
import { MNIST, MNIST_CONTENT_HASH } from '../../src/data/datasets.js';

describe('built-in dataset content hashes (model lineage)', () => {
  it('MNIST_CONTENT_HASH is the SHA-256 of the shipped digits in canonical order', async () => {
    const digits = await loadMnist();
    expect(digits.x).toBeInstanceOf(Float32Array);
    expect(digits.y).toBeInstanceOf(Uint8Array);
    const hash = createHash('sha256')
      .update(new Uint8Array(digits.x.buffer, digits.x.byteOffset, digits.x.byteLength))
      .update(new Uint8Array(digits.y.buffer, digits.y.byteOffset, digits.y.byteLength))
      .digest('hex');
    expect(hash, 'the built-in MNIST data changed: update MNIST_CONTENT_HASH').toBe(MNIST_CONTENT_HASH);
    expect(MNIST.contentHash).toBe(MNIST_CONTENT_HASH);
  });
});
