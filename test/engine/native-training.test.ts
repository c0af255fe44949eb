import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../src/engine/native-addon.js';
import { registeredNativeKernels } from '../../src/engine/native-kernels.js';
import { selectEngine } from '../../src/engine/select-engine.js';
import { wasmHeapBytes } from '../../src/engine/wasm-heap.js';
import { collectGarbage } from '../../src/infra/collect-garbage.js';
import { buildModel, type ModelSpec, SEED_MNIST_MODEL, TINY_CNN_MODEL } from '../../src/model-spec/index.js';
import { NATIVE_SKIP_REASON, NATIVE_TESTS_RUN, randomFloats, TOLERANCE } from './engine-test-helpers.js';

/**
 * Whole training runs on the native engine: the seed net against the wasm
 * engine step by step, and job after job in one process (what a sandbox
 * does), whose memory must stay flat.
 */
const suite = describe.skipIf(!NATIVE_TESTS_RUN);

// Dropout draws unseeded masks (build-model.ts): off, so both engines see the same network.
const SEED_NET: ModelSpec = { ...SEED_MNIST_MODEL, layers: SEED_MNIST_MODEL.layers.filter((layer) => layer.type !== 'dropout') };
const STEPS = 20;
const BATCH = 16;

/**
 * Learnable batches: noise with a brighter 6x6 square whose place says the
 * class, so the loss falls over the 20 steps (on pure noise it would not,
 * and equal losses would prove little) but stays far from 0, where a
 * relative comparison would only measure rounding.
 */
function batches(): { xs: Float32Array; labels: number[] }[] {
  return Array.from({ length: STEPS }, (_, step) => {
    const labels = Array.from({ length: BATCH }, (_, i) => (i * 7 + step * 3) % 10);
    const xs = randomFloats(BATCH * 28 * 28, 100 + step).map((v) => (v + 1) / 4);
    labels.forEach((label, i) => {
      const [top, left] = [2 + 12 * Math.floor(label / 5), 1 + 5 * (label % 5)];
      for (let y = top; y < top + 6; y++) for (let x = left; x < left + 6; x++) xs[i * 784 + y * 28 + x] += 0.5;
    });
    return { xs, labels };
  });
}

async function trainSeedNet(engine: 'wasm' | 'native', initial: Float32Array[]): Promise<number[]> {
  await selectEngine(engine);
  const model = buildModel(SEED_NET, { seed: 1 });
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(initial[i], w.shape)));
  // Plain SGD. Adam turns rounding noise in tiny gradients into learning-rate-sized steps, which
  // makes 20 steps chaotic: nudging every weight by 1e-7 (relative) moved the wasm engine's own
  // losses by up to 7e-4 on these batches. That would test the trajectory, not the engine.
  model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
  const losses: number[] = [];
  for (const { xs, labels } of batches()) {
    const [x, y] = tf.tidy(() => [tf.tensor4d(xs, [BATCH, 28, 28, 1]), tf.oneHot(tf.tensor1d(labels, 'int32'), 10)]);
    losses.push((await model.trainOnBatch(x, y)) as number);
    tf.dispose([x, y]);
  }
  model.optimizer.dispose();
  model.dispose();
  return losses;
}

function relativeDifferences(losses: number[], reference: number[]): number[] {
  return losses.map((loss, step) => Math.abs(loss - reference[step]) / Math.abs(reference[step]));
}

suite(`the seed net on the native engine${NATIVE_SKIP_REASON}`, () => {
  it(`gives the wasm engine's losses over ${STEPS} steps from the same weights and batches, within ${TOLERANCE} (relative)`, async () => {
    await selectEngine('wasm');
    const template = buildModel(SEED_NET, { seed: 1 });
    const initial = template.getWeights().map((w) => Float32Array.from(w.dataSync()));
    template.dispose();

    const wasm = await trainSeedNet('wasm', initial);
    const callsBefore = loadNativeAddon().info().calls;
    const native = await trainSeedNet('native', initial);
    // Every step ran convolutions, products and pooling in the add-on (about 20 calls a step).
    expect(loadNativeAddon().info().calls - callsBefore).toBeGreaterThanOrEqual(STEPS * 15);
    // Control: wasm itself from weights nudged by rounding-sized amounts. It must stay within the
    // tolerance too, or these batches make the run chaotic and the comparison below says nothing.
    const nudged = await trainSeedNet(
      'wasm',
      initial.map((w, k) => w.map((v, i) => v * (1 + 1e-7 * (((i + k) % 3) - 1)))),
    );

    const relative = relativeDifferences(native, wasm);
    const control = relativeDifferences(nudged, wasm);
    console.log(
      `seed net, ${STEPS} SGD steps: wasm losses ${wasm.map((l) => l.toFixed(5)).join(' ')}\n` +
        `largest relative difference: native vs wasm ${Math.max(...relative).toExponential(2)}, nudged wasm vs wasm ${Math.max(...control).toExponential(2)}`,
    );
    control.forEach((r, step) => expect(r, `control, step ${step + 1}`).toBeLessThanOrEqual(TOLERANCE));
    relative.forEach((r, step) => expect(r, `step ${step + 1}: native ${native[step]}, wasm ${wasm[step]}`).toBeLessThanOrEqual(TOLERANCE));
    // The network learned, or equal losses would prove little.
    expect(wasm[STEPS - 1]).toBeLessThan(wasm[0] * 0.9);
  });
});

suite(`one process training job after job on the native engine${NATIVE_SKIP_REASON}`, () => {
  const JOBS = 20;
  const MiB = 2 ** 20;

  /** One job's worth of engine work: build, fit (a partial last batch too), predict, dispose. */
  async function job(spec: ModelSpec, seed: number): Promise<void> {
    const model = buildModel(spec, { seed });
    model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const count = 50;
    const xs = tf.tensor4d(
      randomFloats(count * 28 * 28, seed).map((v) => (v + 1) / 2),
      [count, 28, 28, 1],
    );
    const ys = tf.tidy(() =>
      tf.oneHot(
        tf.tensor1d(
          Array.from({ length: count }, (_, i) => i % 10),
          'int32',
        ),
        10,
      ),
    );
    await model.fit(xs, ys, { epochs: 1, batchSize: 16, verbose: 0 });
    const predicted = model.predict(xs) as tf.Tensor;
    await predicted.data();
    tf.dispose([xs, ys, predicted]);
    model.optimizer.dispose();
    model.dispose();
  }

  it(`trains ${JOBS} jobs of two models in a row, leaving no tensors, primitives or memory behind`, async () => {
    await selectEngine('native');
    expect(registeredNativeKernels().length).toBeGreaterThan(0);
    const addon = loadNativeAddon();
    const baseline = tf.memory().numTensors;
    const after: { tensors: number; rss: number; heap: number | null; primitives: number; workspace: number }[] = [];
    for (let i = 0; i < JOBS; i++) {
      await job(i % 2 === 0 ? SEED_NET : TINY_CNN_MODEL, i + 1);
      const info = addon.info();
      collectGarbage();
      after.push({ tensors: tf.memory().numTensors, rss: process.memoryUsage().rss, heap: wasmHeapBytes(), primitives: info.cachedPrimitives, workspace: info.workspaceBytes });
    }
    console.log(
      `job  tensors  rss MiB  wasm heap MiB  primitives  workspace MiB\n${after
        .map(
          (a, i) =>
            `${String(i + 1).padStart(3)}  ${String(a.tensors).padStart(7)}  ${(a.rss / MiB).toFixed(1).padStart(7)}  ${((a.heap ?? 0) / MiB).toFixed(1).padStart(13)}  ` +
            `${String(a.primitives).padStart(10)}  ${(a.workspace / MiB).toFixed(1).padStart(13)}`,
        )
        .join('\n')}`,
    );
    for (const a of after) expect(a.tensors).toBe(baseline);
    // Caches reach their working size with the first job of each model and stay there.
    for (const a of after.slice(2)) {
      expect(a.primitives).toBe(after[1].primitives);
      expect(a.workspace).toBe(after[1].workspace);
      expect(a.heap).toBe(after[1].heap);
    }
    // A leak of even 1 MiB a job would show over 15 jobs.
    const settled = after[4].rss;
    const drift = Math.max(...after.slice(5).map((a) => a.rss)) - settled;
    console.log(`rss after job 5: ${(settled / MiB).toFixed(1)} MiB; most above it in jobs 6-${JOBS}: ${(drift / MiB).toFixed(1)} MiB`);
    expect(drift).toBeLessThan(16 * MiB);
  });
});
