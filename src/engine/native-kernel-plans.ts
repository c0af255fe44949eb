import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import { convGeometry, matMulPlan, NATIVE_ACTIVATIONS, poolGeometry } from './native-geometry.js';
import { allFloat32, assertShape, type KernelArgs, requireInput, type Shape4 } from './wasm-kernel-scope.js';

/**
 * One call of the add-on, decided in TypeScript from a kernel's inputs and
 * attributes: the tensors it reads, the shape of the float32 output it
 * writes, and the call itself. native-kernels.ts allocates the output and
 * turns the tensors into byte offsets on the wasm heap.
 */
export interface NativePlan {
  /** Tensors the add-on reads, in the order of its offsets; undefined for an absent optional one (passed as -1). The output's offset follows them. */
  reads: (tf.TensorInfo | undefined)[];
  outShape: number[];
  run(heap: ArrayBuffer, offsets: Float64Array): void;
}

/**
 * A native kernel's checks of dtypes, layouts and shapes: a plan for the
 * add-on, or null for a case it does not take (the kernel registered before
 * runs it). Inconsistent inputs throw here, before the add-on runs.
 */
export type NativePlanner = (args: KernelArgs) => NativePlan | null;

function assertRank4(name: string, info: tf.TensorInfo): void {
  if (info.shape.length !== 4) throw new Error(`${name} must be rank 4, got shape [${info.shape}]`);
}

function sizeOf(info: tf.TensorInfo): number {
  return tf.util.sizeFromShape(info.shape);
}

function float32(...infos: (tf.TensorInfo | undefined)[]): boolean {
  return allFloat32(...infos.filter((info): info is tf.TensorInfo => info !== undefined));
}

type ConvAttrs = tf.FusedConv2DAttrs & { dilations?: number | [number, number] };

/** Conv2D, or FusedConv2D (bias and activation applied by oneDNN) when `fused`. */
export function planConv2d(addon: NativeAddon, fused: boolean): NativePlanner {
  const kernel = fused ? 'FusedConv2D' : 'Conv2D';
  return ({ inputs, attrs }) => {
    const x = requireInput(inputs, 'x');
    const filter = requireInput(inputs, 'filter');
    const bias = fused ? inputs.bias : undefined;
    const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } = attrs as unknown as ConvAttrs;
    const code = NATIVE_ACTIVATIONS[fused ? (activation ?? 'linear') : 'linear'];
    if (dataFormat === 'NCHW' || code === undefined || (fused && inputs.preluActivationWeights) || !float32(x, filter, bias)) return null;
    assertRank4('x', x);
    assertRank4('filter', filter);
    if (filter.shape[2] !== x.shape[3]) throw new Error(`${kernel}: filter has ${filter.shape[2]} input channels, x has ${x.shape[3]}`);
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, strides, dilations ?? 1, pad, dimRoundingMode, false, 'channelsLast');
    const geometry = convGeometry(info);
    // A bias that broadcasts from fewer values than output channels stays on wasm.
    if (!geometry || (bias && sizeOf(bias) !== info.outChannels)) return null;
    // The plain kernel passes alpha 0, as it always has: alpha is part of the add-on's primitive cache key.
    const alpha = fused ? (leakyreluAlpha ?? 0.2) : 0;
    return { reads: [x, filter, bias], outShape: info.outShape, run: (heap, at) => addon.conv2d(heap, at, geometry, code, alpha) };
  };
}

export function planConv2dBackpropInput(addon: NativeAddon): NativePlanner {
  return ({ inputs, attrs }) => {
    const dy = requireInput(inputs, 'dy');
    const filter = requireInput(inputs, 'filter');
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (dataFormat === 'NCHW' || !allFloat32(dy, filter)) return null;
    assertRank4('dy', dy);
    assertRank4('filter', filter);
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    assertShape('dy', dy.shape, info.outShape);
    if (filter.shape[2] !== inputShape[3]) throw new Error(`Conv2DBackpropInput: filter has ${filter.shape[2]} input channels, inputShape has ${inputShape[3]}`);
    const geometry = convGeometry(info);
    if (!geometry) return null;
    return { reads: [dy, filter], outShape: [...inputShape], run: (heap, at) => addon.conv2dBackpropInput(heap, at, geometry) };
  };
}

export function planConv2dBackpropFilter(addon: NativeAddon): NativePlanner {
  return ({ inputs, attrs }) => {
    const x = requireInput(inputs, 'x');
    const dy = requireInput(inputs, 'dy');
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (dataFormat === 'NCHW' || !allFloat32(x, dy)) return null;
    assertRank4('x', x);
    assertRank4('dy', dy);
    if (filterShape[2] !== x.shape[3]) throw new Error(`Conv2DBackpropFilter: filterShape has ${filterShape[2]} input channels, x has ${x.shape[3]}`);
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    assertShape('dy', dy.shape, info.outShape);
    const geometry = convGeometry(info);
    if (!geometry) return null;
    return { reads: [x, dy], outShape: [...filterShape], run: (heap, at) => addon.conv2dBackpropFilter(heap, at, geometry) };
  };
}

/** BatchMatMul, or _FusedMatMul (bias row and activation) when `fused`. */
export function planMatMul(addon: NativeAddon, fused: boolean): NativePlanner {
  const kernel = fused ? '_FusedMatMul' : 'BatchMatMul';
  return ({ inputs, attrs }) => {
    const a = requireInput(inputs, 'a');
    const b = requireInput(inputs, 'b');
    const bias = fused ? inputs.bias : undefined;
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as tf._FusedMatMulAttrs;
    const code = NATIVE_ACTIVATIONS[fused ? (activation ?? 'linear') : 'linear'];
    if (code === undefined || (fused && inputs.preluActivationWeights) || !float32(a, b, bias)) return null;
    if (a.shape.length < 2 || b.shape.length < 2) throw new Error(`${kernel}: a and b must have rank 2 or more, got [${a.shape}] and [${b.shape}]`);
    const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const plan = matMulPlan(a.shape, b.shape, transposeA, transposeB, outBatch);
    if (!plan) {
      const k = [transposeA ? a.shape.at(-2) : a.shape.at(-1), transposeB ? b.shape.at(-1) : b.shape.at(-2)];
      if (k[0] !== k[1]) throw new Error(`${kernel}: inner dimensions of [${a.shape}] and [${b.shape}] (transposeA ${transposeA}, transposeB ${transposeB}) must match`);
      return null;
    }
    const n = plan.outShape[plan.outShape.length - 1];
    // A bias that is not one value per output column (a scalar, a per-row one) stays on wasm.
    if (bias && (sizeOf(bias) !== n || bias.shape[bias.shape.length - 1] !== n)) return null;
    const alpha = leakyreluAlpha ?? 0.2;
    return { reads: [a, b, bias], outShape: plan.outShape, run: (heap, at) => addon.matMul(heap, at, plan.geometry, code, alpha) };
  };
}

export function planMaxPool(addon: NativeAddon): NativePlanner {
  return ({ inputs, attrs }) => {
    const x = requireInput(inputs, 'x');
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolAttrs;
    if (!allFloat32(x)) return null;
    assertRank4('x', x);
    const info = tf.backend_util.computePool2DInfo(x.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
    const geometry = poolGeometry(info);
    if (!geometry) return null;
    return { reads: [x], outShape: info.outShape, run: (heap, at) => addon.maxPool(heap, at, geometry) };
  };
}

export function planMaxPoolGrad(addon: NativeAddon): NativePlanner {
  return ({ inputs, attrs }) => {
    const dy = requireInput(inputs, 'dy');
    const input = requireInput(inputs, 'input');
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    if (!allFloat32(dy, input)) return null;
    assertRank4('input', input);
    const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
    assertShape('dy', dy.shape, info.outShape);
    const geometry = poolGeometry(info);
    if (!geometry) return null;
    return { reads: [input, dy], outShape: [...input.shape], run: (heap, at) => addon.maxPoolGrad(heap, at, geometry) };
  };
}

/**
 * Add where one side is a vector along the other's last axis (a bias: the
 * wasm kernel broadcasts it element by element, 3x slower on the seed net's
 * first layer). Same-shape and other broadcasts stay on wasm.
 */
export function planAdd(addon: NativeAddon): NativePlanner {
  return ({ inputs }) => {
    const a = requireInput(inputs, 'a');
    const b = requireInput(inputs, 'b');
    if (!allFloat32(a, b)) return null;
    const [big, vector] = sizeOf(a) >= sizeOf(b) ? [a, b] : [b, a];
    const cols = big.shape[big.shape.length - 1];
    const isRowVector =
      big.shape.length >= 1 &&
      vector.shape.length >= 1 &&
      vector.shape.length <= big.shape.length &&
      vector.shape[vector.shape.length - 1] === cols &&
      sizeOf(vector) === cols &&
      sizeOf(big) > cols;
    if (!isRowVector || cols === 0) return null;
    return { reads: [big, vector], outShape: [...big.shape], run: (heap, at) => addon.addRowVector(heap, at, sizeOf(big) / cols, cols) };
  };
}

/** Sum, or Mean when `mean`, over leading axes (bias gradients, batch statistics), in float64 as on cpu; others stay on wasm. */
export function planLeadingReduction(addon: NativeAddon, mean: boolean): NativePlanner {
  return ({ inputs, attrs }) => {
    const x = requireInput(inputs, 'x');
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (!leading || !allFloat32(x) || sizeOf(x) === 0) return null;
    const kept = x.shape.slice(axes.length);
    const cols = tf.util.sizeFromShape(kept);
    const rows = sizeOf(x) / cols;
    return {
      reads: [x],
      outShape: keepDims ? [...axes.map(() => 1), ...kept] : kept,
      run: (heap, at) => addon.sumRows(heap, at, rows, cols, mean ? 1 : 0),
    };
  };
}

/** Square root: Adam takes one of every weight each step, and wasm's is not vectorised (6 ms vs 0.7 ms for the seed net's 3.2 M). */
export function planSqrt(addon: NativeAddon): NativePlanner {
  return ({ inputs }) => {
    const x = requireInput(inputs, 'x');
    if (!allFloat32(x) || sizeOf(x) === 0) return null;
    return { reads: [x], outShape: [...x.shape], run: (heap, at) => addon.sqrt(heap, at, sizeOf(x)) };
  };
}
