import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectEngine } from '../../src/engine/select-engine.js';
import { registeredWasmTrainingKernels, registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../src/engine/wasm-training-kernels.js';
import { computeOn, expectSame, onBothEngines, randomFloats, relativeError, TOLERANCE } from './engine-test-helpers.js';
import { convCases, convKernelCase, matMulCases, maxPoolTies, poolCases } from './kernel-cases.js';

beforeAll(async () => {
  const engine = await selectEngine('wasm');
  expect(engine.kernels).toEqual([...WASM_TRAINING_KERNELS]);
});

describe.each(convCases)('convolution gradients: $name', (c) => {
  const kernels = convKernelCase(c);

  it('Conv2DBackpropFilter matches cpu', async () => {
    expectSame(await onBothEngines(kernels.conv2DBackpropFilter));
  });

  it('Conv2DBackpropInput matches cpu', async () => {
    expectSame(await onBothEngines(kernels.conv2DBackpropInput));
  });
});

describe('BatchMatMul', () => {
  it.each(matMulCases)('a $a (transposed: $transposeA) · b $b (transposed: $transposeB) matches cpu', async (c) => {
    const a = randomFloats(tf.util.sizeFromShape(c.a), 4);
    const b = randomFloats(tf.util.sizeFromShape(c.b), 5);
    expectSame(
      await onBothEngines(
        () => tf.engine().runKernel('BatchMatMul', { a: tf.tensor(a, c.a), b: tf.tensor(b, c.b) }, { transposeA: c.transposeA, transposeB: c.transposeB }) as tf.Tensor,
      ),
    );
  });
});

describe.each(poolCases)('pooling gradients: x $x, window $size, strides $strides, $pad', (c) => {
  // A third zeros, as after a ReLU: ties inside a window must resolve alike.
  const x = randomFloats(tf.util.sizeFromShape(c.x), 6, 1 / 3);
  const outShape = tf.backend_util.computePool2DInfo(c.x, c.size, c.strides, 1, c.pad).outShape;
  const dy = randomFloats(tf.util.sizeFromShape(outShape), 7);

  it('MaxPoolGrad matches cpu', async () => {
    expectSame(
      await onBothEngines(() => {
        const input = tf.tensor4d(x, c.x);
        const output = tf.maxPool(input, c.size, c.strides, c.pad);
        return tf.engine().runKernel('MaxPoolGrad', { dy: tf.tensor(dy, outShape), input, output }, { filterSize: c.size, strides: c.strides, pad: c.pad }) as tf.Tensor;
      }),
    );
  });

  it('AvgPoolGrad matches cpu', async () => {
    expectSame(
      await onBothEngines(
        () =>
          tf.engine().runKernel('AvgPoolGrad', { dy: tf.tensor(dy, outShape), input: tf.tensor4d(x, c.x) }, { filterSize: c.size, strides: c.strides, pad: c.pad }) as tf.Tensor,
      ),
    );
  });
});

interface SumCase {
  x: number[];
  axis: number | number[];
  keepDims: boolean;
  dtype?: 'float32' | 'int32';
}

const sumCases: SumCase[] = [
  { x: [3, 9, 9, 8], axis: [0, 1, 2], keepDims: false },
  { x: [3, 9, 9, 8], axis: [2, 0, 1], keepDims: true },
  { x: [40, 7], axis: 0, keepDims: false },
  { x: [1, 5, 1, 3], axis: [0, 1], keepDims: false },
  // Not leading axes, all axes, or int32: left to the stock kernel.
  { x: [3, 9, 9, 8], axis: [1, 2], keepDims: false },
  { x: [4, 6], axis: [0, 1], keepDims: false },
  { x: [5, 6], axis: 0, keepDims: false, dtype: 'int32' },
];

describe('MaxPoolGrad semantics', () => {
  const { grad, expected } = maxPoolTies;

  it('routes every window to its first maximum, as cpu does', async () => {
    const { cpu, wasm } = await onBothEngines(grad);
    expect(Array.from(cpu.values)).toEqual(expected);
    expect(Array.from(wasm.values)).toEqual(expected);
  });

  // Pins why we replace the stock kernel: when a tfjs upgrade makes this fail, ours may be redundant.
  it('differs from the stock wasm kernel, which drops non-positive windows', async () => {
    try {
      unregisterWasmTrainingKernels();
      const stock = await computeOn('wasm', grad);
      expect(Array.from(stock.values)).not.toEqual(expected);
    } finally {
      registerWasmTrainingKernels();
    }
  });
});

describe.each([
  { op: 'Sum', reduce: tf.sum },
  { op: 'Mean', reduce: tf.mean },
])('$op', ({ reduce }) => {
  it.each(sumCases)('x $x over axes $axis (keepDims $keepDims) matches cpu', async (c) => {
    const values = randomFloats(tf.util.sizeFromShape(c.x), 12).map((v) => (c.dtype === 'int32' ? Math.round(v * 100) : v));
    expectSame(await onBothEngines(() => tf.cast(reduce(tf.tensor(values, c.x, c.dtype ?? 'float32'), c.axis, c.keepDims), 'float32')));
  });
});

interface TileCase {
  x: number[];
  reps: number[];
  dtype: 'float32' | 'int32' | 'bool';
}

const tileCases: TileCase[] = [
  { x: [1, 1, 1, 5], reps: [3, 4, 2, 1], dtype: 'float32' },
  { x: [2, 3], reps: [2, 3], dtype: 'float32' },
  { x: [3, 1, 2], reps: [1, 4, 3], dtype: 'float32' },
  { x: [5], reps: [1], dtype: 'float32' },
  { x: [2, 2], reps: [3, 1], dtype: 'int32' },
  { x: [2, 1, 3], reps: [2, 3, 2], dtype: 'bool' },
];

describe('Tile', () => {
  it.each(tileCases)('$dtype x $x tiled $reps matches cpu', async (c) => {
    const values = randomFloats(tf.util.sizeFromShape(c.x), 13).map((v) => (c.dtype === 'float32' ? v : c.dtype === 'int32' ? Math.round(v * 100) : Number(v > 0)));
    expectSame(await onBothEngines(() => tf.cast(tf.tile(tf.tensor(values, c.x, c.dtype), c.reps), 'float32')));
  });
});

describe('Identity and Cast to the same dtype', () => {
  it('share the input bytes instead of copying, and each tensor outlives the other', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const ids = backend.numDataIds();
    const copy = tf.clone(x);
    const same = tf.cast(x, 'float32');
    expect(backend.numDataIds()).toBe(ids);
    x.dispose();
    expect(Array.from(await copy.data())).toEqual([1, 2, 3, 4]);
    copy.dispose();
    expect(Array.from(await same.data())).toEqual([1, 2, 3, 4]);
    same.dispose();
    expect(backend.numDataIds()).toBe(ids - 1);
  });

  it('Cast to another dtype still converts', async () => {
    const { cpu, wasm } = await onBothEngines(() => tf.cast(tf.cast(tf.tensor1d([1.7, -2.2, 0]), 'int32'), 'float32'));
    expect(Array.from(wasm.values)).toEqual(Array.from(cpu.values));
    expect(Array.from(wasm.values)).toEqual([1, -2, 0]);
  });
});

describe('one training step of a small conv net', () => {
  const inputShape: [number, number, number] = [16, 16, 2];
  const batch = 6;
  const classes = 5;

  // Fixed initial weights: with random ones, a rare draw leaves a weight whose gradient is rounding noise,
  // which made this comparison fail about one run in ten.
  const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

  function buildModel(): tf.Sequential {
    const model = tf.sequential();
    // No bias before batch norm: its gradient is zero up to rounding noise, which no tolerance can compare.
    model.add(tf.layers.conv2d({ inputShape, filters: 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: seeded(1) }));
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.activation({ activation: 'relu' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }));
    model.add(tf.layers.conv2d({ filters: 6, kernelSize: [3, 5], strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: seeded(2) }));
    model.add(tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: seeded(3) }));
    model.add(tf.layers.dropout({ rate: 0 }));
    model.add(tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: seeded(4) }));
    // Plain SGD: Adam's first step is ~lr·sign(g), which amplifies float noise in tiny gradients.
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    return model;
  }

  async function trainOn(backend: 'cpu' | 'wasm', initial: Float32Array[]): Promise<{ losses: number[]; weights: Float32Array[] }> {
    await tf.setBackend(backend);
    const model = buildModel();
    model.setWeights(model.getWeights().map((w, i) => tf.tensor(initial[i], w.shape)));
    const xs = tf.tensor4d(randomFloats(batch * inputShape[0] * inputShape[1] * inputShape[2], 8), [batch, ...inputShape]);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 2], 'int32'), classes);
    const losses: number[] = [];
    for (let step = 0; step < 2; step++) losses.push((await model.trainOnBatch(xs, ys)) as number);
    const weights = await Promise.all(model.getWeights().map(async (w) => Float32Array.from(await w.data())));
    tf.dispose([xs, ys]);
    model.dispose();
    return { losses, weights };
  }

  it('gives the same losses and weights (batch-norm statistics too) on wasm as on cpu', async () => {
    await tf.setBackend('cpu');
    const template = buildModel();
    const initial = template.getWeights().map((w) => Float32Array.from(w.dataSync()));
    template.dispose();

    const cpu = await trainOn('cpu', initial);
    const wasm = await trainOn('wasm', initial);

    expect(registeredWasmTrainingKernels()).toEqual([...WASM_TRAINING_KERNELS]);
    for (let step = 0; step < cpu.losses.length; step++) {
      expect(Math.abs(wasm.losses[step] - cpu.losses[step]) / cpu.losses[step]).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(wasm.weights).toHaveLength(cpu.weights.length);
    cpu.weights.forEach((expected, i) => {
      expect(relativeError(wasm.weights[i], expected), `weight tensor ${i}`).toBeLessThanOrEqual(TOLERANCE);
      // The step must actually have moved the weights, or the comparison proves nothing.
      expect(relativeError(expected, initial[i]), `weight tensor ${i} moved`).toBeGreaterThan(TOLERANCE);
    });
  });
});
