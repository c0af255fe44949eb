import { describe, expect, it } from 'vitest';
import { DynamicBatcher, type BatchRunner } from '../../src/predict/batcher.js';

/** A runner that records its batches and answers each instance with [its first value, batch size]; `gate` holds batches until released. */
function recorder() {
  const batches: { key: string; count: number; values: number[] }[] = [];
  let release: () => void = () => undefined;
  let gate: Promise<void> | null = null;
  const hold = () => {
    gate = new Promise<void>((resolve) => (release = resolve));
  };
  const runner =
    (key: string): BatchRunner =>
    async (input, count) => {
      const size = input.length / count;
      const values = Array.from({ length: count }, (_, i) => input[i * size]);
      batches.push({ key, count, values });
      if (gate) await gate;
      const output = new Float32Array(count * 2);
      values.forEach((v, i) => output.set([v, count], i * 2));
      return { output, outputSize: 2 };
    };
  return { batches, runner, hold, release: () => release() };
}

const one = (v: number, size = 3) => new Float32Array(size).fill(v);

describe('DynamicBatcher', () => {
  it('runs a lone request at once when a slot is free (timeout 0)', async () => {
    const r = recorder();
    const b = new DynamicBatcher({ maxBatchSize: 8, timeoutMicros: 0, slots: 1 });
    const out = await b.submit('m', one(5), 1, r.runner('m'));
    expect(Array.from(out.output)).toEqual([5, 1]);
    expect(r.batches).toEqual([{ key: 'm', count: 1, values: [5] }]);
  });

  it('merges requests that arrive while every slot is busy, up to maxBatchSize, each getting its own rows', async () => {
    const r = recorder();
    const b = new DynamicBatcher({ maxBatchSize: 4, timeoutMicros: 0, slots: 1 });
    r.hold();
    const first = b.submit('m', one(0), 1, r.runner('m'));
    const rest = [1, 2, 3, 4, 5, 6].map((v) => b.submit('m', one(v), 1, r.runner('m')));
    expect(b.stats()).toMatchObject({ running: 1, waiting: 6 });
    r.release();
    const outs = await Promise.all([first, ...rest]);
    expect(r.batches.map((x) => x.values)).toEqual([[0], [1, 2, 3, 4], [5, 6]]);
    outs.forEach((o, i) => expect(o.output[0]).toBe(i));
    expect(b.stats()).toMatchObject({ requests: 7, batches: 3, instances: 7, maxBatch: 4, waiting: 0, running: 0 });
  });

  it('never mixes keys, and never splits a request', async () => {
    const r = recorder();
    const b = new DynamicBatcher({ maxBatchSize: 4, timeoutMicros: 0, slots: 1 });
    r.hold();
    const first = b.submit('a', one(0), 1, r.runner('a'));
    const a = b.submit('a', new Float32Array([1, 1, 1, 2, 2, 2, 3, 3, 3]), 3, r.runner('a'));
    const bb = b.submit('b', one(9), 1, r.runner('b'));
    const a2 = b.submit('a', new Float32Array([4, 4, 4, 5, 5, 5]), 2, r.runner('a'));
    r.release();
    const [, outA, outB, outA2] = await Promise.all([first, a, bb, a2]);
    for (const batch of r.batches) expect(new Set(batch.values.map((v) => (v === 9 ? 'b' : 'a')))).toEqual(new Set([batch.key]));
    // 3 + 2 instances exceed 4: the second request waits for its own batch rather than being split.
    expect(r.batches.map((x) => x.count)).toEqual([1, 3, 1, 2]);
    expect(Array.from(outA.output)).toEqual([1, 3, 2, 3, 3, 3]);
    expect(Array.from(outB.output)).toEqual([9, 1]);
    expect(Array.from(outA2.output)).toEqual([4, 2, 5, 2]);
  });

  it('holds a partial batch for the timeout while a slot is free, then runs what came', async () => {
    const r = recorder();
    const b = new DynamicBatcher({ maxBatchSize: 64, timeoutMicros: 50_000, slots: 2 });
    const outs = Promise.all([1, 2, 3].map((v) => b.submit('m', one(v), 1, r.runner('m'))));
    expect(r.batches).toHaveLength(0);
    await outs;
    expect(r.batches).toEqual([{ key: 'm', count: 3, values: [1, 2, 3] }]);
  });

  it('runs a full batch without waiting for the timeout', async () => {
    const r = recorder();
    const b = new DynamicBatcher({ maxBatchSize: 2, timeoutMicros: 60_000_000, slots: 1 });
    await Promise.all([1, 2].map((v) => b.submit('m', one(v), 1, r.runner('m'))));
    expect(r.batches).toEqual([{ key: 'm', count: 2, values: [1, 2] }]);
  });

  it('rejects every request of a failed batch, and goes on with the next', async () => {
    const b = new DynamicBatcher({ maxBatchSize: 4, timeoutMicros: 0, slots: 1 });
    await expect(b.submit('m', one(1), 1, async () => Promise.reject(new Error('model failed')))).rejects.toThrow('model failed');
    const r = recorder();
    expect((await b.submit('m', one(2), 1, r.runner('m'))).output[0]).toBe(2);
  });
});
