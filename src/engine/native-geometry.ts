import type * as tf from '@tensorflow/tfjs';

/**
 * tfjs's convolution and pooling descriptions in the flat layouts the
 * add-on reads (native/src/kernels.h). Each returns null for a case the
 * add-on does not take, and the caller then keeps the wasm kernel.
 */

/** The fused activations of FusedConv2D and _FusedMatMul the add-on applies itself, by code. */
export const NATIVE_ACTIVATIONS: Readonly<Record<string, number>> = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5 };

/**
 * Zeros to add after the input along one axis so that the last window ends
 * where tfjs's output size says. tfjs reports the pads it *placed*; with
 * 'ceil' rounding the last window may overhang them, and with 'valid' and a
 * stride the last rows may lie in no window at all (then no pad is needed,
 * as long as the output size still comes out right without one).
 */
export function trailingPad(size: number, before: number, effectiveFilter: number, stride: number, out: number): number | null {
  const needed = (out - 1) * stride + effectiveFilter - size - before;
  if (needed >= 0) return needed;
  const span = size + before - effectiveFilter;
  return span >= 0 && Math.floor(span / stride) + 1 === out ? 0 : null;
}

/** The sizes both geometries start with: [n, ih, iw, ci, oh, ow]. */
function imageSizes(info: tf.backend_util.Conv2DInfo): number[] {
  return [info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth];
}

/** [n, ih, iw, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, padTop, padLeft, padBottom, padRight] */
export function convGeometry(info: tf.backend_util.Conv2DInfo): Float64Array | null {
  const { padInfo } = info;
  const images = imageSizes(info);
  if (size(images) * info.outChannels === 0) return null;
  if (padInfo.top < 0 || padInfo.left < 0) return null;
  const bottom = trailingPad(info.inHeight, padInfo.top, info.effectiveFilterHeight, info.strideHeight, info.outHeight);
  const right = trailingPad(info.inWidth, padInfo.left, info.effectiveFilterWidth, info.strideWidth, info.outWidth);
  if (bottom === null || right === null) return null;
  return Float64Array.of(
    ...images,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    padInfo.top,
    padInfo.left,
    bottom,
    right,
  );
}

/** [n, ih, iw, c, oh, ow, fh, fw, sh, sw, padTop, padLeft]; windows are clipped to the input. */
export function poolGeometry(info: tf.backend_util.Conv2DInfo): Float64Array | null {
  const images = imageSizes(info);
  if (size(images) === 0) return null;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  return Float64Array.of(...images, info.effectiveFilterHeight, info.effectiveFilterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
}

export interface MatMulPlan {
  /** [batch, m, n, k, transposeA, transposeB, strideA, strideB] */
  geometry: Float64Array;
  outShape: number[];
}

/**
 * A (batched) product op(a)·op(b) as one sgemm per batch. Batches must be
 * equal, or one side a single matrix used for all (stride 0); other
 * broadcasts stay on wasm.
 */
export function matMulPlan(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean, outBatchShape: number[]): MatMulPlan | null {
  if (aShape.length < 2 || bShape.length < 2) return null;
  const [aRows, aCols] = aShape.slice(-2);
  const [bRows, bCols] = bShape.slice(-2);
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const kB = transposeB ? bCols : bRows;
  const n = transposeB ? bRows : bCols;
  if (k !== kB || m * n * k === 0) return null;
  const batchA = size(aShape.slice(0, -2));
  const batchB = size(bShape.slice(0, -2));
  const batch = size(outBatchShape);
  let strideA = m * k;
  let strideB = k * n;
  if (batchA === 1 && batch > 1) strideA = 0;
  if (batchB === 1 && batch > 1) strideB = 0;
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
  return {
    geometry: Float64Array.of(batch, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, strideA, strideB),
    outShape: [...outBatchShape, m, n],
  };
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
