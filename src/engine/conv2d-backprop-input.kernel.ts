import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allFloat32, assertShape, requireInput, WasmKernelScope, type KernelArgs, type Shape4, type StockWasmKernels } from './wasm-kernel-scope.js';

/**
 * Conv2DBackpropInput for wasm; the stock kernel is a scalar loop.
 *
 * dx[iy] = Σ_k dy[(iy + top − k) / s] · W[k] over the taps k where that
 * index is a whole number (shown for one axis; channels are summed over co).
 * Input rows with the same phase r = (iy + top) mod s use only the taps
 * k ≡ r (mod s), and for them it is a stride-1 convolution of dy with those
 * taps reversed and in/out channels swapped. So dx is s² small XNNPACK
 * convolutions whose outputs interleave; at stride 1 it is one convolution
 * whose output is dx itself.
 */
export function makeConv2dBackpropInput(stock: StockWasmKernels): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const dy = requireInput(inputs, 'dy');
    const filter = requireInput(inputs, 'filter');
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (dataFormat === 'NCHW' || !allFloat32(dy, filter)) {
      return stock.conv2dBackpropInput(args as Parameters<tf.KernelFunc>[0]);
    }
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    assertShape('dy', dy.shape, info.outShape);

    const rows = axisPhases(info.strideHeight, info.filterHeight, info.padInfo.top, info.inHeight, info.outHeight);
    const cols = axisPhases(info.strideWidth, info.filterWidth, info.padInfo.left, info.inWidth, info.outWidth);
    const scope = new WasmKernelScope(backend as BackendWasm, stock);
    try {
      // A phase that would need negative padding (an explicit pad wider than
      // the kernel) would need dy cropped first; such rare layouts take the
      // slower zero-insertion route instead.
      if (![...rows, ...cols].every((p) => p.taps === 0 || p.count === 0 || (p.padBefore >= 0 && p.padAfter >= 0))) {
        return gradBySpreading(scope, dy, filter, info);
      }
      if (rows.length === 1 && cols.length === 1) {
        const rotated = scope.temp(phaseFilter(scope, filter, rows[0], cols[0], 1, 1));
        return scope.conv2d(dy, rotated, phasePads(rows[0], cols[0]));
      }
      return gradByPhases(scope, dy, filter, info, rows, cols);
    } finally {
      scope.dispose();
    }
  };
}

/** The input rows (or columns) of one phase and the convolution that yields them. */
interface AxisPhase {
  /** r: this phase holds the input indices i with (i + padBefore of the layer) mod s = r. */
  phase: number;
  /** Filter taps k ≡ r (mod s). */
  taps: number;
  /** q = (i + layer padBefore − r) / s of the phase's first input index. */
  first: number;
  /** Input indices in this phase. */
  count: number;
  /** Padding of dy for this phase's stride-1 convolution. */
  padBefore: number;
  padAfter: number;
}

function axisPhases(stride: number, kernel: number, padBefore: number, inSize: number, outSize: number): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let phase = 0; phase < stride; phase++) {
    const taps = phase < kernel ? Math.ceil((kernel - phase) / stride) : 0;
    const first = Math.ceil((padBefore - phase) / stride);
    const last = Math.floor((inSize - 1 + padBefore - phase) / stride);
    const count = Math.max(0, last - first + 1);
    const before = taps - 1 - first;
    phases.push({ phase, taps, first, count, padBefore: before, padAfter: count - outSize - before + taps - 1 });
  }
  return phases;
}

function phasePads(row: AxisPhase, col: AxisPhase) {
  return { top: row.padBefore, bottom: row.padAfter, left: col.padBefore, right: col.padAfter };
}

function gradByPhases(scope: WasmKernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, rows: AxisPhase[], cols: AxisPhase[]): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, strideHeight: sh, strideWidth: sw } = info;
  const dx = scope.alloc([n, h, w, ci]);
  // Phases without taps (kernel smaller than the stride) leave zeros.
  scope.heap(dx).fill(0);
  for (const row of rows) {
    for (const col of cols) {
      if (row.taps === 0 || col.taps === 0 || row.count === 0 || col.count === 0) continue;
      const sub = scope.temp(phaseFilter(scope, filter, row, col, sh, sw));
      const part = scope.temp(scope.conv2d(dy, sub, phasePads(row, col)));
      assertShape('phase output', part.shape, [n, row.count, col.count, ci]);
      const src = scope.heap(part);
      const dst = scope.heap(dx);
      for (let b = 0; b < n; b++) {
        for (let t = 0; t < row.count; t++) {
          const iy = (row.first + t) * sh + row.phase - info.padInfo.top;
          for (let u = 0; u < col.count; u++) {
            const ix = (col.first + u) * sw + col.phase - info.padInfo.left;
            const from = ((b * row.count + t) * col.count + u) * ci;
            const to = ((b * h + iy) * w + ix) * ci;
            for (let c = 0; c < ci; c++) dst[to + c] = src[from + c];
          }
        }
      }
    }
  }
  return dx;
}

/**
 * The taps of one phase, reversed, as a filter for dy:
 * [taps_y, taps_x, co, ci] from W[phase_y + s_y·(taps_y−1−y), phase_x + s_x·(taps_x−1−x), ci, co].
 * At stride 1 this is W rotated 180° with in/out channels swapped.
 */
function phaseFilter(scope: WasmKernelScope, filter: tf.TensorInfo, row: AxisPhase, col: AxisPhase, sh: number, sw: number): tf.TensorInfo {
  const [, kw, ci, co] = filter.shape;
  const out = scope.alloc([row.taps, col.taps, co, ci]);
  const src = scope.heap(filter);
  const dst = scope.heap(out);
  for (let y = 0; y < row.taps; y++) {
    for (let x = 0; x < col.taps; x++) {
      const ky = row.phase + sh * (row.taps - 1 - y);
      const kx = col.phase + sw * (col.taps - 1 - x);
      const from = (ky * kw + kx) * ci * co;
      const to = (y * col.taps + x) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) dst[to + o * ci + i] = src[from + i * co + o];
      }
    }
  }
  return out;
}

/**
 * Fallback for any padding: dy spread with zeros between its pixels
 * (stride − 1 of them) into a padded buffer, then one valid stride-1
 * convolution with the whole rotated filter. Spends (s²−1)/s² of its MACs
 * on zeros, still far faster than the stock loop.
 */
function gradBySpreading(scope: WasmKernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const whole = (kernel: number): AxisPhase => ({ phase: 0, taps: kernel, first: 0, count: 0, padBefore: 0, padAfter: 0 });
  const rotated = scope.temp(phaseFilter(scope, filter, whole(info.filterHeight), whole(info.filterWidth), 1, 1));
  const top = info.filterHeight - 1 - info.padInfo.top;
  const left = info.filterWidth - 1 - info.padInfo.left;
  const spread = scope.temp(spreadGradient(scope, dy, info, top, left));
  return scope.conv2d(spread, rotated, { top: 0, bottom: 0, left: 0, right: 0 });
}

/**
 * Places dy[n,i,j,:] at [n, top + i·sh, left + j·sw, :] of a zeroed
 * [n, inH+kh−1, inW+kw−1, co] buffer, dropping what lands outside it, so a
 * valid stride-1 convolution of the buffer yields exactly inH × inW rows.
 */
function spreadGradient(scope: WasmKernelScope, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, top: number, left: number): tf.TensorInfo {
  const [n, oh, ow, co] = dy.shape;
  const height = info.inHeight + info.filterHeight - 1;
  const width = info.inWidth + info.filterWidth - 1;
  const out = scope.alloc([n, height, width, co]);
  const src = scope.heap(dy);
  const dst = scope.heap(out);
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      const row = top + i * info.strideHeight;
      if (row < 0 || row >= height) continue;
      for (let j = 0; j < ow; j++) {
        const col = left + j * info.strideWidth;
        if (col < 0 || col >= width) continue;
        const from = ((b * oh + i) * ow + j) * co;
        dst.set(src.subarray(from, from + co), ((b * height + row) * width + col) * co);
      }
    }
  }
  return out;
}
