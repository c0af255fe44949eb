import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectEngine } from '../../src/engine/select-engine.js';
import { WASM_HEAP_MAX_BYTES, wasmHeapBytes } from '../../src/engine/wasm-heap.js';
import { WasmOutOfMemoryError } from '../../src/engine/wasm-out-of-memory.error.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.DataId;
}

const held: tf.Tensor[] = [];
afterAll(() => tf.dispose(held.splice(0)));

describe('the wasm engine out of memory', () => {
  it('throws WasmOutOfMemoryError when its heap cannot grow, and keeps working once memory is freed', async () => {
    await selectEngine('wasm');
    const backend = tf.backend() as unknown as WasmBackendLike;
    // Outputs that nothing writes: the heap grows, but untouched pages cost no real memory, so this is cheap.
    const values = 375_000_000; // 1.5 GB each: the third cannot fit in 4 GiB
    const allocate = () => held.push(tf.engine().makeTensorFromDataId(backend.makeOutput([values], 'float32'), [values], 'float32'));
    let error: unknown;
    try {
      for (let i = 0; i < 4; i++) allocate();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WasmOutOfMemoryError);
    expect((error as WasmOutOfMemoryError).requestedBytes).toBe(values * 4);
    expect(held).toHaveLength(2);
    expect(wasmHeapBytes()).toBeLessThanOrEqual(WASM_HEAP_MAX_BYTES);

    tf.dispose(held.splice(0));
    expect(tf.tidy(() => tf.ones([1000]).sum().dataSync()[0])).toBe(1000);
    // One tensor larger than the heap can ever be is refused up front, not wrapped around modulo 4 GiB.
    expect(() => tf.zeros([1200, 1024, 1024])).toThrow(/wasm out of memory: could not allocate 4\.69 GiB/);
    expect(tf.memory().numTensors).toBe(0);
  });
});
