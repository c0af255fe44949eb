import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allFloat32, assertShape, requireInput, WasmKernelScope, type KernelArgs, type Shape4, type StockWasmKernels } from './wasm-kernel-scope.js';

/**
 * Conv2DBackpropFilter for wasm, which has none.
 *
 * dW[kh,kw,ci,co] = Σ over n,oy,ox of x[n, oy·s+kh−top, ox·s+kw−left, ci] · dy[n,oy,ox,co],
 * computed by XNNPACK in one of two ways:
 *
 * - As a convolution: read with ci as the batch axis and n as the channel
 *   axis, the sum is a stride-1 convolution of x by dy (as a filter dilated
 *   by the stride), whose output [ci,kh,kw,co] is dW up to a transpose.
 * - As one matrix product patchesᵀ·dy, with patchesᵀ [kh·kw·ci, n·oy·ox]
 *   gathered from x (im2col). Its rows are already in dW's order.
 *
 * Both make XNNPACK pack a dy-sized operand. The convolution also copies dy
 * twice (our transpose, then XNNPACK's own filter transpose), while im2col
 * writes kh·kw·ci floats per output pixel: im2col wins when that is at most
 * dy's co per pixel, as in a first layer (5·5·1 vs 32 on the seed net).
 */
export function makeConv2dBackpropFilter(stock: StockWasmKernels): tf.KernelFunc {
  return ({ inputs, backend, attrs }: KernelArgs) => {
    const x = requireInput(inputs, 'x');
    const dy = requireInput(inputs, 'dy');
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (dataFormat === 'NCHW') {
      // wasm's Conv2D is NHWC-only, so a NCHW net cannot run its forward pass here either.
      throw new Error("Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only");
    }
    if (!allFloat32(x, dy)) throw new Error('Conv2DBackpropFilter on wasm supports float32 only');
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    assertShape('dy', dy.shape, info.outShape);

    const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
    const { top, left } = info.padInfo;
    // Padding after the input that makes the dilated-dy window end exactly
    // on the last filter tap; negative when trailing input rows/columns fall
    // outside every window (valid padding, stride > 1): those are cropped.
    const bottom = info.filterHeight + (oh - 1) * sh - info.inHeight - top;
    const right = info.filterWidth + (ow - 1) * sw - info.inWidth - left;

    const scope = new WasmKernelScope(backend as BackendWasm, stock);
    try {
      if (info.filterHeight * info.filterWidth * info.inChannels <= info.outChannels) {
        return filterGradByIm2col(scope, x, dy, info);
      }
      const input = bottom < 0 || right < 0 ? scope.temp(cropSpatial(scope, x, info.inHeight + Math.min(bottom, 0), info.inWidth + Math.min(right, 0))) : x;
      const xT = scope.swapBatchAndChannels(input);
      const dyT = scope.transpose(dy, [1, 2, 0, 3]);
      const pads = { top, left, bottom: Math.max(bottom, 0), right: Math.max(right, 0) };
      const grad = scope.temp(scope.conv2d(xT, dyT, pads, [sh, sw]));
      return scope.transposeOwned(grad, [1, 2, 0, 3]);
    } finally {
      scope.dispose();
    }
  };
}

function filterGradByIm2col(scope: WasmKernelScope, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pixels = n * oh * ow;
  // Channel-major x, so each gathered row segment reads one contiguous image row.
  const planes = scope.transpose(x, [3, 0, 1, 2]);
  const patches = scope.temp(scope.alloc([kh * kw * ci, pixels]));
  const src = scope.heap(planes);
  const dst = scope.heap(patches);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      // Output columns whose input column falls inside the image for this tap.
      const colShift = kx - info.padInfo.left;
      const oxStart = Math.min(ow, Math.max(0, Math.ceil(-colShift / sw)));
      const oxEnd = Math.max(oxStart, Math.min(ow, Math.ceil((w - colShift) / sw)));
      for (let c = 0; c < ci; c++) {
        const row = ((ky * kw + kx) * ci + c) * pixels;
        for (let b = 0; b < n; b++) {
          for (let oy = 0; oy < oh; oy++) {
            const out = row + (b * oh + oy) * ow;
            const iy = oy * sh + ky - info.padInfo.top;
            if (iy < 0 || iy >= h) {
              dst.fill(0, out, out + ow);
              continue;
            }
            const image = ((c * n + b) * h + iy) * w + colShift;
            dst.fill(0, out, out + oxStart);
            if (sw === 1) {
              dst.set(src.subarray(image + oxStart, image + oxEnd), out + oxStart);
            } else {
              for (let ox = oxStart; ox < oxEnd; ox++) dst[out + ox] = src[image + ox * sw];
            }
            dst.fill(0, out + oxEnd, out + ow);
          }
        }
      }
    }
  }
  const product = scope.matMul(patches, scope.view(dy, [pixels, info.outChannels]));
  return scope.view(product, info.filterShape);
}

/** The top-left height × width window of an NHWC tensor. */
function cropSpatial(scope: WasmKernelScope, x: tf.TensorInfo, height: number, width: number): tf.TensorInfo {
  const [n, h, w, c] = x.shape;
  const out = scope.alloc([n, height, width, c]);
  const src = scope.heap(x);
  const dst = scope.heap(out);
  for (let b = 0; b < n; b++) {
    for (let row = 0; row < height; row++) {
      const from = (b * h + row) * w * c;
      dst.set(src.subarray(from, from + width * c), (b * height + row) * width * c);
    }
  }
  return out;
}
