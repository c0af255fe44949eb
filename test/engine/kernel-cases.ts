import * as tf from '@tensorflow/tfjs';
import { randomFloats } from './engine-test-helpers.js';

/**
 * Kernel shapes that the engine tests share: every engine's kernels are
 * checked against cpu on the same cases (stride, padding same / valid /
 * explicit / numeric, kernel sizes, odd shapes, batch 1).
 */
export type Shape4 = [number, number, number, number];
/** Pads given per side, as tfjs takes them for NHWC: nothing on the batch and channel axes. */
export type ExplicitPads = [[0, 0], [number, number], [number, number], [0, 0]];
export type Pad = 'same' | 'valid' | number | ExplicitPads;

/** [top, bottom] rows and [left, right] columns of padding. */
export function explicitPads(rows: [number, number], columns: [number, number]): ExplicitPads {
  return [[0, 0], rows, columns, [0, 0]];
}

export interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'ceil' | 'round';
  /** Forward convolutions only: tfjs computes no gradients of dilated ones. */
  dilations?: number | [number, number];
}

export const convCases: ConvCase[] = [
  { name: 'batch 1, 1 channel, 3x3 same', x: [1, 7, 7, 1], filter: [3, 3, 1, 4], strides: 1, pad: 'same' },
  { name: 'batch 3, 3 channels, 3x3 valid', x: [3, 9, 9, 3], filter: [3, 3, 3, 8], strides: 1, pad: 'valid' },
  { name: 'stride 2 same, odd size', x: [3, 9, 9, 3], filter: [3, 3, 3, 8], strides: 2, pad: 'same' },
  { name: 'stride 2 valid, last row in no window', x: [1, 10, 10, 8], filter: [3, 3, 8, 3], strides: 2, pad: 'valid' },
  { name: 'non-square 3x5, strides [2,1], explicit pads', x: [3, 11, 8, 3], filter: [3, 5, 3, 8], strides: [2, 1], pad: explicitPads([1, 2], [2, 0]) },
  { name: 'non-square 5x3, one output channel, stride 2 same', x: [1, 12, 9, 3], filter: [5, 3, 3, 1], strides: 2, pad: 'same' },
  { name: '1x1 stride 1', x: [1, 6, 6, 8], filter: [1, 1, 8, 3], strides: 1, pad: 'valid' },
  { name: '1x1 stride 2 same', x: [3, 7, 7, 8], filter: [1, 1, 8, 8], strides: 2, pad: 'same' },
  { name: 'even 4x4 kernel, stride 2 same (asymmetric pads)', x: [2, 8, 8, 3], filter: [4, 4, 3, 8], strides: 2, pad: 'same' },
  { name: 'explicit pad wider than the kernel', x: [3, 6, 5, 1], filter: [2, 2, 1, 3], strides: 1, pad: explicitPads([3, 0], [0, 3]) },
  { name: 'stride 2, explicit pads wider than the kernel', x: [2, 7, 7, 3], filter: [2, 2, 3, 4], strides: 2, pad: explicitPads([3, 1], [2, 3]) },
  { name: 'numeric pad 1, ceil rounding: last window overhangs', x: [2, 8, 7, 3], filter: [3, 3, 3, 8], strides: 2, pad: 1, dimRoundingMode: 'ceil' },
  { name: 'seed-net-like 5x5 same, batch 3', x: [3, 13, 9, 8], filter: [5, 5, 8, 8], strides: 1, pad: 'same' },
  // kh·kw·ci ≤ co: Conv2DBackpropFilter takes its im2col route for these.
  { name: 'im2col: 1 channel, 5x5 same (seed net layer 1)', x: [3, 12, 12, 1], filter: [5, 5, 1, 32], strides: 1, pad: 'same' },
  { name: 'im2col: non-square 3x5, strides [2,1], explicit pads', x: [2, 11, 8, 1], filter: [3, 5, 1, 16], strides: [2, 1], pad: explicitPads([1, 2], [2, 0]) },
  { name: 'im2col: stride 2 valid, last row and column in no window', x: [3, 9, 11, 2], filter: [2, 2, 2, 8], strides: 2, pad: 'valid' },
  { name: 'im2col: explicit pad wider than the kernel', x: [3, 6, 5, 1], filter: [2, 2, 1, 8], strides: 1, pad: explicitPads([3, 0], [0, 3]) },
  { name: 'im2col: 1x1 stride 2 same, odd size', x: [1, 7, 7, 3], filter: [1, 1, 3, 3], strides: 2, pad: 'same' },
];

export function rounding(c: ConvCase): tf.NamedAttrMap {
  return c.dimRoundingMode ? { dimRoundingMode: c.dimRoundingMode } : {};
}

export function convOutShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations ?? 1, c.pad, c.dimRoundingMode).outShape;
}

/**
 * A case's random inputs (x, filter, and dy in the output's shape: seeds 1,
 * 2 and 3) and the three convolution kernels on them, called as tfjs calls
 * them in training. Each runner builds its tensors on the current backend.
 */
export function convKernelCase(c: ConvCase) {
  const dyShape = convOutShape(c);
  const x = randomFloats(tf.util.sizeFromShape(c.x), 1);
  const filter = randomFloats(tf.util.sizeFromShape(c.filter), 2);
  const dy = randomFloats(tf.util.sizeFromShape(dyShape), 3);
  const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', ...rounding(c) };
  return {
    x,
    filter,
    conv2D: () => tf.engine().runKernel('Conv2D', { x: tf.tensor(x, c.x), filter: tf.tensor(filter, c.filter) }, { ...attrs, dilations: c.dilations ?? 1 }) as tf.Tensor,
    conv2DBackpropInput: () =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, c.filter) }, { ...attrs, inputShape: c.x }) as tf.Tensor,
    conv2DBackpropFilter: () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) }, { ...attrs, filterShape: c.filter }) as tf.Tensor,
  };
}

export interface MatMulCase {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

export const matMulCases: MatMulCase[] = [
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

export interface PoolCase {
  x: Shape4;
  size: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid';
}

export const poolCases: PoolCase[] = [
  { x: [1, 7, 7, 1], size: 2, strides: 2, pad: 'same' },
  { x: [3, 8, 8, 8], size: 2, strides: 2, pad: 'valid' },
  { x: [3, 9, 9, 3], size: 3, strides: 2, pad: 'same' },
  { x: [1, 10, 7, 3], size: [3, 2], strides: 1, pad: 'valid' },
  { x: [3, 9, 9, 8], size: 3, strides: 1, pad: 'same' },
];

/**
 * MaxPoolGrad's tie rule: 2x2 valid windows that are all ≤ 0 with a tie at
 * 0, all negative, a tie at 5, and mixed. The first maximum of each window
 * in row-major order gets its gradient, as on cpu.
 */
export const maxPoolTies = {
  grad: (): tf.Tensor =>
    tf.grad((input: tf.Tensor) =>
      tf
        .maxPool(input as tf.Tensor4D, 2, 2, 'valid')
        .mul(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]))
        .sum(),
    )(tf.tensor4d([-1, -2, 0, 0, -3, -4, 0, 0, 5, 5, -1, -1, 5, 5, -1, -2], [1, 4, 4, 1])),
  expected: [1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0],
};
