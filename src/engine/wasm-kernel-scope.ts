import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** What tfjs passes to a kernel function (the backend is ours to narrow). */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

export type Shape4 = [number, number, number, number];

/** The stock wasm kernels our training kernels are built from. */
export interface StockWasmKernels {
  conv2d: tf.KernelFunc;
  transpose: tf.KernelFunc;
  batchMatMul: tf.KernelFunc;
  conv2dBackpropInput: tf.KernelFunc;
  sum: tf.KernelFunc;
  mean: tf.KernelFunc;
  tile: tf.KernelFunc;
  maxPoolGrad: tf.KernelFunc;
  avgPoolGrad: tf.KernelFunc;
  identity: tf.KernelFunc;
  cast: tf.KernelFunc;
}

/**
 * Runs stock wasm kernels from inside one of our kernels and frees the
 * intermediates it made when the kernel ends.
 *
 * Stock kernel functions are called directly instead of through
 * `tf.engine().runKernel`: nested engine calls would allocate tracked
 * tensors, show up twice in `tf.profile`, and cost a dispatch each.
 */
export class WasmKernelScope {
  private readonly temporaries: tf.TensorInfo[] = [];

  constructor(
    readonly backend: BackendWasm,
    private readonly stock: StockWasmKernels,
  ) {}

  /** Marks an intermediate to be freed by {@link dispose}; returns it. */
  temp(info: tf.TensorInfo): tf.TensorInfo {
    this.temporaries.push(info);
    return info;
  }

  dispose(): void {
    for (const info of this.temporaries) this.backend.disposeData(info.dataId);
    this.temporaries.length = 0;
  }

  /**
   * Same data, another shape. The view shares the caller's buffer without a
   * reference of its own, so it must not outlive the tensor it was made from
   * and must not be passed to {@link temp}.
   */
  view(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    if (tf.util.sizeFromShape(shape) !== tf.util.sizeFromShape(info.shape)) {
      throw new Error(`cannot view shape [${info.shape}] as [${shape}]`);
    }
    return { dataId: info.dataId, shape, dtype: info.dtype };
  }

  /** Transposed tensor, tracked as a temporary. */
  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.temp(this.transposeOwned(x, perm));
  }

  /**
   * Transposed tensor owned by the caller (e.g. a kernel's output). When the
   * permutation only moves size-1 axes the bytes are already in order, so it
   * returns a counted alias, as the stock Reshape kernel does, not a copy.
   */
  transposeOwned(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    const shape = perm.map((axis) => x.shape[axis]);
    const moved = perm.filter((axis) => x.shape[axis] !== 1);
    if (moved.every((axis, i) => i === 0 || moved[i - 1] < axis)) {
      this.backend.incRef(x.dataId);
      return { dataId: x.dataId, shape, dtype: x.dtype };
    }
    return this.call(this.stock.transpose, { x }, { perm });
  }

  /**
   * [n,h,w,c] → [c,h,w,n], tracked as a temporary. The stock Transpose runs
   * this permutation element by element (~4 ns a float); here each (h,w)
   * pixel's n×c block is turned in cache, writing output rows in order.
   */
  swapBatchAndChannels(x: tf.TensorInfo): tf.TensorInfo {
    const [n, h, w, c] = x.shape;
    if (n === 1 || c === 1) return this.transpose(x, [3, 1, 2, 0]);
    const pixels = h * w;
    const out = this.temp(this.alloc([c, h, w, n]));
    const src = this.heap(x);
    const dst = this.heap(out);
    for (let p = 0; p < pixels; p++) {
      for (let ch = 0; ch < c; ch++) {
        const to = (ch * pixels + p) * n;
        let from = p * c + ch;
        for (let b = 0; b < n; b++, from += pixels * c) dst[to + b] = src[from];
      }
    }
    return out;
  }

  /** NHWC convolution at stride 1 with explicit padding and optional dilation, no bias. */
  conv2d(x: tf.TensorInfo, filter: tf.TensorInfo, pads: { top: number; bottom: number; left: number; right: number }, dilations: [number, number] = [1, 1]): tf.TensorInfo {
    const attrs = {
      strides: [1, 1],
      pad: [
        [0, 0],
        [pads.top, pads.bottom],
        [pads.left, pads.right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations,
    } as unknown as tf.NamedAttrMap;
    return this.call(this.stock.conv2d, { x, filter }, attrs);
  }

  /** a·b for 2-D operands, on XNNPACK's fully-connected path. */
  matMul(a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
    const out = this.call(this.stock.batchMatMul, { a, b }, { transposeA: false, transposeB: false });
    return this.view(out, [a.shape[0], b.shape[1]]);
  }

  /** A float32 tensor on the wasm heap, contents undefined. */
  alloc(shape: number[]): tf.TensorInfo {
    return this.backend.makeOutput(shape, 'float32');
  }

  /**
   * A view of the tensor's bytes on the wasm heap. Take it after the last
   * allocation: growing the heap detaches earlier views.
   */
  heap(info: tf.TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(info) as Float32Array;
  }

  call(kernel: tf.KernelFunc, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
    const out = kernel({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error('expected a kernel with one output');
    return out;
  }
}

/** Our kernels read heap bytes as float32; other dtypes go to the stock kernel. */
export function allFloat32(...infos: tf.TensorInfo[]): boolean {
  return infos.every((info) => info.dtype === 'float32');
}

/** A kernel input that tfjs always passes; named in the error if it did not. */
export function requireInput(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const info = inputs[name];
  if (!info) throw new Error(`kernel input '${name}' is missing`);
  return info;
}

export function assertShape(name: string, actual: number[], expected: number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${name} has shape [${actual}], expected [${expected}]`);
  }
}
