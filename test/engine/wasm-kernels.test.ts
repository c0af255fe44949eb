import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectEngine } from '../../src/engine/select-engine.js';
import { registeredWasmTrainingKernels, registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../src/engine/wasm-training-kernels.js';
import { computeOn, expectSame, onBothEngines, randomFloats, relativeError, TOLERANCE } from './engine-test-helpers.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

beforeAll(async () => {
  const engine = await selectEngine('wasm');
  expect(engine.kernels).toEqual([...WASM_TRAINING_KERNELS]);
});

interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'ceil' | 'round';
}

const convCases: ConvCase[] = [
  { name: 'batch 1, 1 channel, 3x3 same', x: [1, 7, 7, 1], filter: [3, 3, 1, 4], strides: 1, pad: 'same' },
  { name: 'batch 3, 3 channels, 3x3 valid', x: [3, 9, 9, 3], filter: [3, 3, 3, 8], strides: 1, pad: 'valid' },
  { name: 'stride 2 same, odd size', x: [3, 9, 9, 3], filter: [3, 3, 3, 8], strides: 2, pad: 'same' },
  { name: 'stride 2 valid, last row in no window', x: [1, 10, 10, 8], filter: [3, 3, 8, 3], strides: 2, pad: 'valid' },
  {
    name: 'non-square 3x5, strides [2,1], explicit pads',
    x: [3, 11, 8, 3],
    filter: [3, 5, 3, 8],
    strides: [2, 1],
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
  { name: 'non-square 5x3, one output channel, stride 2 same', x: [1, 12, 9, 3], filter: [5, 3, 3, 1], strides: 2, pad: 'same' },
  { name: '1x1 stride 1', x: [1, 6, 6, 8], filter: [1, 1, 8, 3], strides: 1, pad: 'valid' },
  { name: '1x1 stride 2 same', x: [3, 7, 7, 8], filter: [1, 1, 8, 8], strides: 2, pad: 'same' },
  { name: 'even 4x4 kernel, stride 2 same (asymmetric pads)', x: [2, 8, 8, 3], filter: [4, 4, 3, 8], strides: 2, pad: 'same' },
  {
    name: 'explicit pad wider than the kernel',
    x: [3, 6, 5, 1],
    filter: [2, 2, 1, 3],
    strides: 1,
    pad: [
      [0, 0],
      [3, 0],
      [0, 3],
      [0, 0],
    ],
  },
  {
    name: 'stride 2, explicit pads wider than the kernel',
    x: [2, 7, 7, 3],
    filter: [2, 2, 3, 4],
    strides: 2,
    pad: [
      [0, 0],
      [3, 1],
      [2, 3],
      [0, 0],
    ],
  },
  { name: 'numeric pad 1, ceil rounding: last window overhangs', x: [2, 8, 7, 3], filter: [3, 3, 3, 8], strides: 2, pad: 1, dimRoundingMode: 'ceil' },
  { name: 'seed-net-like 5x5 same, batch 3', x: [3, 13, 9, 8], filter: [5, 5, 8, 8], strides: 1, pad: 'same' },
  // kh·kw·ci ≤ co: Conv2DBackpropFilter takes its im2col route for these.
  { name: 'im2col: 1 channel, 5x5 same (seed net layer 1)', x: [3, 12, 12, 1], filter: [5, 5, 1, 32], strides: 1, pad: 'same' },
  {
    name: 'im2col: non-square 3x5, strides [2,1], explicit pads',
    x: [2, 11, 8, 1],
    filter: [3, 5, 1, 16],
    strides: [2, 1],
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
  { name: 'im2col: stride 2 valid, last row and column in no window', x: [3, 9, 11, 2], filter: [2, 2, 2, 8], strides: 2, pad: 'valid' },
  {
    name: 'im2col: explicit pad wider than the kernel',
    x: [3, 6, 5, 1],
    filter: [2, 2, 1, 8],
    strides: 1,
    pad: [
      [0, 0],
      [3, 0],
      [0, 3],
      [0, 0],
    ],
  },
  { name: 'im2col: 1x1 stride 2 same, odd size', x: [1, 7, 7, 3], filter: [1, 1, 3, 3], strides: 2, pad: 'same' },
];

function rounding(c: ConvCase): tf.NamedAttrMap {
  return c.dimRoundingMode ? { dimRoundingMode: c.dimRoundingMode } : {};
}

function convOutShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, c.dimRoundingMode).outShape;
}

describe.each(convCases)('convolution gradients: $name', (c) => {
  const dyShape = convOutShape(c);
  const x = randomFloats(tf.util.sizeFromShape(c.x), 1);
  const filter = randomFloats(tf.util.sizeFromShape(c.filter), 2);
  const dy = randomFloats(tf.util.sizeFromShape(dyShape), 3);

  it('Conv2DBackpropFilter matches cpu', async () => {
    expectSame(
      await onBothEngines(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) },
              { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter, ...rounding(c) },
            ) as tf.Tensor,
      ),
    );
  });

  it('Conv2DBackpropInput matches cpu', async () => {
    expectSame(
      await onBothEngines(
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, c.filter) },
              { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x, ...rounding(c) },
            ) as tf.Tensor,
      ),
    );
  });
});

interface MatMulCase {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

const matMulCases: MatMulCase[] = [
  [5, 7, 3],
  [33, 65, 17],
  [1, 9, 4],
  [6, 9, 1],
  [8, 1, 5],
].flatMap(([m, k, n]) =>
  [false, true].flatMap((transposeA) =>
    [false, true].map((transposeB) => ({
      a: transposeA ? [k, m] : [m, k],
      b: transposeB ? [n, k] : [k, n],
      transposeA,
      transposeB,
    })),
  ),
);
// Batch 1 with a leading axis, and a true batch (left to the stock kernel).
matMulCases.push(
  { a: [1, 12, 5], b: [1, 7, 5], transposeA: false, transposeB: true },
  { a: [1, 5, 12], b: [5, 7], transposeA: true, transposeB: false },
  { a: [2, 4, 6], b: [2, 4, 3], transposeA: true, transposeB: false },
);

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

interface PoolCase {
  x: Shape4;
  size: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid';
}

const poolCases: PoolCase[] = [
  { x: [1, 7, 7, 1], size: 2, strides: 2, pad: 'same' },
  { x: [3, 8, 8, 8], size: 2, strides: 2, pad: 'valid' },
  { x: [3, 9, 9, 3], size: 3, strides: 2, pad: 'same' },
  { x: [1, 10, 7, 3], size: [3, 2], strides: 1, pad: 'valid' },
  { x: [3, 9, 9, 8], size: 3, strides: 1, pad: 'same' },
];

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
  // Windows (2x2, valid): all ≤ 0 with a tie at 0, all negative, a tie at 5, mixed.
  const x = [-1, -2, 0, 0, -3, -4, 0, 0, 5, 5, -1, -1, 5, 5, -1, -2];
  const grad = (): tf.Tensor =>
    tf.grad((input: tf.Tensor) =>
      tf
        .maxPool(input as tf.Tensor4D, 2, 2, 'valid')
        .mul(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]))
        .sum(),
    )(tf.tensor4d(x, [1, 4, 4, 1]));
  // The first maximum of each window in row-major order gets its gradient.
  const expected = [1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0];

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
