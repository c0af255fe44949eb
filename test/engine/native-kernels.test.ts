import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../src/engine/native-addon.js';
import { NativeKernelError } from '../../src/engine/native-kernel.error.js';
import { NATIVE_KERNELS, registeredNativeKernels } from '../../src/engine/native-kernels.js';
import { selectEngine } from '../../src/engine/select-engine.js';
import { computeOn, expectClose, NATIVE_SKIP_REASON, NATIVE_TESTS_RUN, onCpuAndNative, randomFloats, relativeError } from './engine-test-helpers.js';
import { type ConvCase, convCases, convKernelCase, explicitPads, matMulCases, maxPoolTies, poolCases, type Shape4 } from './kernel-cases.js';

/**
 * The native engine's kernels against tfjs's cpu kernels (values), and its
 * gradient kernels against finite differences of its own forward kernels
 * (numeric gradients), over the shared kernel cases.
 */
const suite = describe.skipIf(!NATIVE_TESTS_RUN);

beforeAll(async () => {
  if (!NATIVE_TESTS_RUN) return;
  const engine = await selectEngine('native');
  expect(engine).toMatchObject({ name: 'native', library: 'oneDNN', threadCount: 1, kernels: [...NATIVE_KERNELS] });
});

/** Add-on calls so far: proves a case ran natively rather than on the wasm fallback. */
function nativeCalls(): number {
  return loadNativeAddon().info().calls;
}

/** `build` on native gives what it gives on cpu, and ran in the add-on. */
async function expectNativeMatchesCpu(build: () => tf.Tensor) {
  const before = nativeCalls();
  const { cpu, native } = await onCpuAndNative(build);
  expectClose(native, cpu);
  expect(nativeCalls()).toBeGreaterThan(before);
}

/** Cases only the forward convolution takes (its gradients refuse dilation), and block-size tails. */
const forwardOnlyCases: ConvCase[] = [
  { name: 'dilation 2, 3x3 same', x: [2, 9, 9, 3], filter: [3, 3, 3, 5], strides: 1, pad: 'same', dilations: 2 },
  { name: 'dilation [2,3], valid', x: [1, 11, 12, 2], filter: [3, 2, 2, 4], strides: 1, pad: 'valid', dilations: [2, 3] },
];
/** Channel counts that are not multiples of oneDNN's 8/16-wide blocks, and a 7x7 kernel. */
const tailCases: ConvCase[] = [
  { name: '17 in, 33 out channels, 3x3 same', x: [2, 6, 5, 17], filter: [3, 3, 17, 33], strides: 1, pad: 'same' },
  { name: '7x7 stride 2 same, batch 1', x: [1, 15, 13, 3], filter: [7, 7, 3, 16], strides: 2, pad: 'same' },
];

suite.each([...convCases, ...forwardOnlyCases, ...tailCases])(`native convolution: $name${NATIVE_SKIP_REASON}`, (c) => {
  const kernels = convKernelCase(c);

  it('Conv2D matches cpu', async () => {
    await expectNativeMatchesCpu(kernels.conv2D);
  });

  it.skipIf(c.dilations !== undefined)('Conv2DBackpropInput matches cpu', async () => {
    await expectNativeMatchesCpu(kernels.conv2DBackpropInput);
  });

  it.skipIf(c.dilations !== undefined)('Conv2DBackpropFilter matches cpu', async () => {
    await expectNativeMatchesCpu(kernels.conv2DBackpropFilter);
  });
});

const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const;

suite(`native fused kernels${NATIVE_SKIP_REASON}`, () => {
  const c: ConvCase = { name: 'fused', x: [2, 9, 8, 5], filter: [3, 3, 5, 20], strides: 2, pad: 'same' };
  const { x, filter } = convKernelCase(c);
  // Large enough that relu6 clips and elu / sigmoid see both signs.
  const scaled = x.map((v) => v * 4);
  const bias = randomFloats(20, 4);
  const prelu = randomFloats(20, 5);

  it.each(ACTIVATIONS)('FusedConv2D with bias and %s matches cpu', async (activation) => {
    const { cpu, native } = await onCpuAndNative(() =>
      tf.fused.conv2d({
        x: tf.tensor4d(scaled, c.x),
        filter: tf.tensor4d(filter, c.filter),
        strides: 2,
        pad: 'same',
        bias: tf.tensor1d(bias),
        activation,
        preluActivationWeights: activation === 'prelu' ? tf.tensor1d(prelu) : undefined,
        leakyreluAlpha: 0.1,
      }),
    );
    expectClose(native, cpu);
  });

  it('FusedConv2D without bias matches cpu', async () => {
    const { cpu, native } = await onCpuAndNative(() =>
      tf.fused.conv2d({ x: tf.tensor4d(scaled, c.x), filter: tf.tensor4d(filter, c.filter), strides: 1, pad: 'valid', activation: 'relu' }),
    );
    expectClose(native, cpu);
  });

  const a = randomFloats(13 * 21, 6).map((v) => v * 3);
  const b = randomFloats(21 * 17, 7);
  it.each(ACTIVATIONS)('_FusedMatMul with bias and %s matches cpu', async (activation) => {
    const { cpu, native } = await onCpuAndNative(() =>
      tf.fused.matMul({
        a: tf.tensor2d(a, [13, 21]),
        b: tf.tensor2d(b, [21, 17]),
        bias: tf.tensor1d(randomFloats(17, 8)),
        activation,
        preluActivationWeights: activation === 'prelu' ? tf.tensor1d(randomFloats(17, 9)) : undefined,
        leakyreluAlpha: 0.3,
      }),
    );
    expectClose(native, cpu);
  });

  it('_FusedMatMul with both operands transposed matches cpu', async () => {
    const { cpu, native } = await onCpuAndNative(() =>
      tf.fused.matMul({
        a: tf.tensor2d(a, [21, 13]),
        b: tf.tensor2d(b, [17, 21]),
        transposeA: true,
        transposeB: true,
        bias: tf.tensor1d(randomFloats(17, 10)),
        activation: 'relu',
      }),
    );
    expectClose(native, cpu);
  });
});

suite(`native BatchMatMul${NATIVE_SKIP_REASON}`, () => {
  const broadcastCases = [
    { a: [3, 4, 6], b: [3, 6, 5], transposeA: false, transposeB: false },
    { a: [1, 4, 6], b: [3, 5, 6], transposeA: false, transposeB: true },
    { a: [2, 3, 6, 4], b: [6, 5], transposeA: true, transposeB: false },
    // Both sides broadcast: left to wasm.
    { a: [2, 1, 4, 6], b: [1, 3, 6, 5], transposeA: false, transposeB: false },
  ];
  it.each([...matMulCases, ...broadcastCases])('a $a (transposed: $transposeA) · b $b (transposed: $transposeB) matches cpu', async (c) => {
    const a = randomFloats(tf.util.sizeFromShape(c.a), 4);
    const b = randomFloats(tf.util.sizeFromShape(c.b), 5);
    const { cpu, native } = await onCpuAndNative(
      () => tf.engine().runKernel('BatchMatMul', { a: tf.tensor(a, c.a), b: tf.tensor(b, c.b) }, { transposeA: c.transposeA, transposeB: c.transposeB }) as tf.Tensor,
    );
    expectClose(native, cpu);
  });
});

const extraPoolCases = [
  { x: [1, 5, 5, 17] as Shape4, size: 2, strides: 2, pad: 'same' as const },
  { x: [2, 6, 7, 4] as Shape4, size: [2, 3] as [number, number], strides: [1, 2] as [number, number], pad: 'valid' as const },
];

suite.each([...poolCases, ...extraPoolCases])(`native pooling: x $x, window $size, strides $strides, $pad${NATIVE_SKIP_REASON}`, (c) => {
  // A third zeros, as after a ReLU: ties inside a window must resolve as on cpu.
  const x = randomFloats(tf.util.sizeFromShape(c.x), 6, 1 / 3);
  const outShape = tf.backend_util.computePool2DInfo(c.x, c.size, c.strides, 1, c.pad).outShape;
  const dy = randomFloats(tf.util.sizeFromShape(outShape), 7);

  it('MaxPool matches cpu', async () => {
    await expectNativeMatchesCpu(() => tf.maxPool(tf.tensor4d(x, c.x), c.size, c.strides, c.pad));
  });

  it('MaxPoolGrad matches cpu', async () => {
    const { cpu, native } = await onCpuAndNative(() => {
      const input = tf.tensor4d(x, c.x);
      const output = tf.maxPool(input, c.size, c.strides, c.pad);
      return tf.engine().runKernel('MaxPoolGrad', { dy: tf.tensor(dy, outShape), input, output }, { filterSize: c.size, strides: c.strides, pad: c.pad }) as tf.Tensor;
    });
    expectClose(native, cpu);
  });
});

suite(`native element-wise kernels and reductions${NATIVE_SKIP_REASON}`, () => {
  const addCases: { a: number[]; b: number[] }[] = [
    { a: [3, 5, 4, 7], b: [7] },
    { a: [7], b: [3, 7] },
    { a: [2, 3], b: [1, 3] },
    { a: [1, 1, 5], b: [4, 2, 5] },
    // Left to wasm: same shape, broadcasts on other axes, scalars.
    { a: [4, 6], b: [4, 6] },
    { a: [4, 1], b: [1, 3] },
    { a: [5, 3], b: [] },
    { a: [2, 3], b: [2, 1, 3] },
  ];
  it.each(addCases)('Add $a + $b matches cpu', async (c) => {
    const a = randomFloats(tf.util.sizeFromShape(c.a), 41);
    const b = randomFloats(tf.util.sizeFromShape(c.b), 42);
    const { cpu, native } = await onCpuAndNative(() => tf.add(tf.tensor(a, c.a), tf.tensor(b, c.b)));
    expectClose(native, cpu);
  });

  const reduceCases: { x: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { x: [3, 9, 9, 8], axis: [0, 1, 2], keepDims: false },
    { x: [3, 9, 9, 8], axis: [2, 0, 1], keepDims: true },
    { x: [40, 7], axis: 0, keepDims: false },
    { x: [1, 5, 1, 3], axis: [0, 1], keepDims: false },
    // Left to wasm: not leading axes, all axes.
    { x: [3, 9, 9, 8], axis: [1, 2], keepDims: false },
    { x: [4, 6], axis: [0, 1], keepDims: false },
  ];
  it.each(reduceCases)('Sum and Mean of x $x over axes $axis (keepDims $keepDims) match cpu', async (c) => {
    const x = randomFloats(tf.util.sizeFromShape(c.x), 43);
    for (const reduce of [tf.sum, tf.mean]) {
      const { cpu, native } = await onCpuAndNative(() => reduce(tf.tensor(x, c.x), c.axis, c.keepDims));
      expectClose(native, cpu);
    }
  });

  it('Sum keeps a long sum of large and small values accurate (float64 partial sums)', async () => {
    const rows = 100_003;
    const x = new Float32Array(rows * 2).map((_, i) => (i % 2 === 0 ? 1 : i % 7 === 0 ? 1e4 : 1e-3));
    const { cpu, native } = await onCpuAndNative(() => tf.sum(tf.tensor2d(x, [rows, 2]), 0));
    expectClose(native, cpu, 1e-6);
  });

  it.each([[[3, 5, 7]], [[100_001]], [[1]]])('Sqrt of x %j matches cpu', async (shape) => {
    const x = randomFloats(tf.util.sizeFromShape(shape), 44);
    await expectNativeMatchesCpu(() => tf.sqrt(tf.abs(tf.tensor(x, shape))));
  });

  it('Sqrt of a negative number or NaN gives NaN, as on cpu', async () => {
    const native = await computeOn('native', () => tf.sqrt(tf.tensor1d([-1, 4, Number.NaN, 0])));
    expect(Array.from(native.values)).toEqual([Number.NaN, 2, Number.NaN, 0]);
  });
});

suite(`native MaxPoolGrad semantics${NATIVE_SKIP_REASON}`, () => {
  it('routes every window to its first maximum, as cpu does (all ≤ 0, ties)', async () => {
    const native = await computeOn('native', maxPoolTies.grad);
    expect(Array.from(native.values)).toEqual(maxPoolTies.expected);
  });
});

/**
 * Gradients by tf.grads on the native engine against central differences of
 * the same engine's forward pass, for the loss Σ f(inputs)·r with a fixed
 * random r. The loss is summed in float64 here; for the linear ops
 * (convolution, product) a central difference is exact up to rounding,
 * whatever the step, so a large step keeps float32 noise small.
 */
async function expectNumericGradients(
  forward: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: { values: Float32Array; shape: number[] }[],
  step: number,
  maxChecks = 48,
): Promise<void> {
  await computeOn('native', () => tf.scalar(0));
  const make = (values: Float32Array[]) => inputs.map((input, i) => tf.tensor(values[i], input.shape));
  const outShape = tf.tidy(() => forward(...make(inputs.map((i) => i.values))).shape);
  const r = randomFloats(tf.util.sizeFromShape(outShape), 11);
  const loss = (values: Float32Array[]): number => {
    const y = tf.tidy(() => forward(...make(values)).dataSync());
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += y[i] * r[i];
    return sum;
  };
  const analytic = tf.tidy(() => {
    const rTensor = tf.tensor(r, outShape);
    return tf
      .grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(forward(...xs), rTensor)))(make(inputs.map((i) => i.values)))
      .map((g) => g.dataSync().slice());
  });
  for (let which = 0; which < inputs.length; which++) {
    const size = inputs[which].values.length;
    // Every element of small inputs, an even spread of large ones.
    const indices = Array.from({ length: Math.min(size, maxChecks) }, (_, i) => Math.floor((i * size) / Math.min(size, maxChecks)));
    const numeric = new Float32Array(indices.length);
    const expected = new Float32Array(indices.length);
    indices.forEach((index, k) => {
      const plus = inputs.map((i) => i.values.slice());
      const minus = inputs.map((i) => i.values.slice());
      plus[which][index] += step;
      minus[which][index] -= step;
      numeric[k] = (loss(plus) - loss(minus)) / (2 * step);
      expected[k] = analytic[which][index];
    });
    expect(relativeError(expected, numeric), `input ${which}`).toBeLessThanOrEqual(1e-3);
  }
}

const gradientConvCases: ConvCase[] = [
  { name: 'batch 1, 3x3 same', x: [1, 6, 6, 2], filter: [3, 3, 2, 3], strides: 1, pad: 'same' },
  { name: 'stride 2 valid, odd size', x: [2, 7, 9, 2], filter: [3, 3, 2, 4], strides: 2, pad: 'valid' },
  { name: 'non-square 2x3, strides [2,1], explicit pads', x: [2, 7, 6, 3], filter: [2, 3, 3, 2], strides: [2, 1], pad: explicitPads([1, 2], [2, 0]) },
  { name: 'even 4x4 kernel, stride 2 same', x: [1, 8, 7, 2], filter: [4, 4, 2, 3], strides: 2, pad: 'same' },
  { name: '5x5 same, 1 input channel (seed net layer 1)', x: [2, 7, 7, 1], filter: [5, 5, 1, 4], strides: 1, pad: 'same' },
];

suite(`native numeric gradients${NATIVE_SKIP_REASON}`, () => {
  it.each(gradientConvCases)('conv2d: $name', async (c) => {
    await expectNumericGradients(
      (x, filter) => tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, c.strides, c.pad as 'same'),
      [
        { values: randomFloats(tf.util.sizeFromShape(c.x), 21), shape: c.x },
        { values: randomFloats(tf.util.sizeFromShape(c.filter), 22), shape: c.filter },
      ],
      0.5,
    );
  });

  it('fused conv2d with bias (linear: the fused kernel and its gradient)', async () => {
    await expectNumericGradients(
      (x, filter, bias) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, bias, strides: 2, pad: 'same' }),
      [
        { values: randomFloats(2 * 7 * 7 * 3, 23), shape: [2, 7, 7, 3] },
        { values: randomFloats(3 * 3 * 3 * 5, 24), shape: [3, 3, 3, 5] },
        { values: randomFloats(5, 25), shape: [5] },
      ],
      0.5,
    );
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('matMul (transposeA %s, transposeB %s)', async (transposeA, transposeB) => {
    const [m, k, n] = [5, 7, 4];
    await expectNumericGradients(
      (a, b) => tf.matMul(a, b, transposeA, transposeB),
      [
        { values: randomFloats(m * k, 26), shape: transposeA ? [k, m] : [m, k] },
        { values: randomFloats(k * n, 27), shape: transposeB ? [n, k] : [k, n] },
      ],
      0.5,
    );
  });

  it.each([
    { x: [1, 6, 6, 3], size: 2, strides: 2, pad: 'same' },
    { x: [2, 7, 5, 2], size: 3, strides: 2, pad: 'same' },
    { x: [1, 7, 6, 2], size: [2, 3], strides: 1, pad: 'valid' },
  ] as { x: Shape4; size: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' }[])(
    'maxPool: x $x, window $size, strides $strides, $pad',
    async (c) => {
      // Distinct values 0.01 apart, a step smaller than half that: no window changes its maximum.
      const size = tf.util.sizeFromShape(c.x);
      const order = Array.from(randomFloats(size, 28), (v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
      const values = new Float32Array(size);
      order.forEach(([, i], rank) => {
        values[i] = (rank - size / 2) * 0.01;
      });
      await expectNumericGradients((x) => tf.maxPool(x as tf.Tensor4D, c.size, c.strides, c.pad), [{ values, shape: c.x }], 0.002, size);
    },
  );
});

suite(`native kernels on two threads${NATIVE_SKIP_REASON}`, () => {
  it('give the same results as on cpu (ENGINE_THREADS=2)', async () => {
    // Large enough that every kernel splits its work: images across threads, long sums in parts.
    const shape: Shape4 = [8, 32, 32, 16];
    const x = randomFloats(tf.util.sizeFromShape(shape), 51, 1 / 4);
    const filter = randomFloats(3 * 3 * 16 * 8, 52);
    const build = () =>
      tf.tidy(() => {
        const input = tf.tensor4d(x, shape);
        const conv = tf.conv2d(input, tf.tensor4d(filter, [3, 3, 16, 8]), 1, 'same');
        const pooled = tf.maxPool(input, 2, 2, 'same');
        const poolGrad = tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, 2, 2, 'same').sum())(input);
        return tf.concat([conv.flatten(), pooled.flatten(), poolGrad.flatten(), tf.sum(input, [0, 1, 2]), tf.sqrt(tf.abs(input)).flatten()]);
      });
    const cpu = await computeOn('cpu', build);
    try {
      expect(await selectEngine('native', { threads: 2 })).toMatchObject({ threadCount: 2 });
      expectClose(await computeOn('native', build), cpu);
    } finally {
      await selectEngine('native');
    }
  });
});

suite(`native failures${NATIVE_SKIP_REASON}`, () => {
  it('refuses inconsistent shapes in TypeScript, before the add-on runs', async () => {
    await computeOn('native', () => tf.scalar(0));
    const before = nativeCalls();
    expect(() =>
      tf.tidy(() =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropInput',
            { dy: tf.zeros([1, 4, 4, 3]), filter: tf.zeros([3, 3, 2, 3]) },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 5, 5, 2] },
          ),
      ),
    ).toThrow(/dy has shape \[1,4,4,3\], expected \[1,5,5,3\]/);
    expect(nativeCalls()).toBe(before);
  });

  it('refuses offsets outside the heap inside the add-on, naming the argument', () => {
    const addon = loadNativeAddon();
    const heap = new ArrayBuffer(64);
    const geometry = Float64Array.of(1, 2, 2, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);
    expect(() => addon.conv2d(heap, Float64Array.of(0, 16, -1, 60), geometry, 0, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_NATIVE_ARGUMENT', message: expect.stringMatching(/^conv2d: output: 4 floats at byte 60 run past the end of the heap \(64 bytes\)/) }),
    );
    expect(() => addon.conv2d(heap, Float64Array.of(0, 16, -1, 32), Float64Array.of(1, 2, 2, 1, 3, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0), 0, 0)).toThrow(
      /convolution height: input 2 with pads 0\+0, kernel 1, dilation 1 and stride 1 does not give output 3/,
    );
  });

  it('sends a shape oneDNN has no implementation for to the kernel registered before it', async () => {
    const x = randomFloats(2 * 6 * 6 * 3, 33);
    const filter = randomFloats(3 * 3 * 3 * 4, 34);
    const build = () => tf.conv2d(tf.tensor4d(x, [2, 6, 6, 3]), tf.tensor4d(filter, [3, 3, 3, 4]), 1, 'same');
    const cpu = await computeOn('cpu', build);
    await computeOn('native', () => tf.scalar(0));
    const before = nativeCalls();
    const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    loadNativeAddon().injectFault('conv2d', true);
    expectClose(await computeOn('native', build), cpu);
    // The add-on computed nothing (wasm did), and the output it had been given was freed.
    expect(nativeCalls()).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataIds);
  });

  it('turns a C++ exception into a NativeKernelError, frees the output, and keeps working', async () => {
    await computeOn('native', () => tf.scalar(0));
    const x = tf.tensor4d(randomFloats(2 * 6 * 6 * 3, 31), [2, 6, 6, 3]);
    const filter = tf.tensor4d(randomFloats(3 * 3 * 3 * 4, 32), [3, 3, 3, 4]);
    const tensors = tf.memory().numTensors;
    const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    loadNativeAddon().injectFault('conv2d');
    let caught: unknown;
    try {
      tf.conv2d(x, filter, 1, 'same');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NativeKernelError);
    expect(caught).toMatchObject({
      code: 'NATIVE_KERNEL_FAILED',
      kernel: 'Conv2D',
      nativeCode: 'ERR_NATIVE_KERNEL',
      message: 'native engine: Conv2D failed: conv2d: fault injected by a test',
    });
    expect(tf.memory().numTensors).toBe(tensors);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataIds);
    const again = tf.conv2d(x, filter, 1, 'same');
    expect(again.shape).toEqual([2, 6, 6, 4]);
    tf.dispose([again, x, filter]);
    expect(registeredNativeKernels()).toEqual([...NATIVE_KERNELS]);
  });
});
