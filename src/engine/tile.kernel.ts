import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { requireInput, type KernelArgs, type StockWasmKernels } from './wasm-kernel-scope.js';

/**
 * Tile for wasm; the stock kernel computes a source index per output
 * element (~45 ns each: 150 ms to broadcast a [1,1,1,32] batch-norm
 * statistic over a [128,28,28,32] gradient, which tfjs's batch-norm
 * gradient does several times a step).
 *
 * Here each innermost row is copied once and every axis then repeats the
 * block already written with doubling `copyWithin` calls, so the work is a
 * few memcpys of the output. Bytes are copied, so the dtype does not matter.
 */
export function makeTile(stock: StockWasmKernels): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const x = requireInput(inputs, 'x');
    const { reps } = attrs as unknown as tf.TileAttrs;
    // typedArrayFromHeap knows float32, int32 and bool; the rest stays stock.
    const copyable = x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool';
    if (!copyable || x.shape.length === 0) return stock.tile(args as Parameters<tf.KernelFunc>[0]);

    const outShape = x.shape.map((d, i) => d * reps[i]);
    const out = backend.makeOutput(outShape, x.dtype);
    if (tf.util.sizeFromShape(outShape) === 0) return out;
    const bytes = tf.util.bytesPerElement(x.dtype);
    const src = heapBytes(backend, x);
    const dst = heapBytes(backend, out);
    // Byte strides, so a row of n elements is n·bytes bytes.
    const xStrides = [...tf.util.computeStrides(x.shape), 1].map((s) => s * bytes);
    const outStrides = [...tf.util.computeStrides(outShape), 1].map((s) => s * bytes);
    const rank = x.shape.length;

    const fill = (axis: number, from: number, to: number): void => {
      let block: number;
      if (axis === rank - 1) {
        block = x.shape[axis] * bytes;
        dst.set(src.subarray(from, from + block), to);
      } else {
        for (let i = 0; i < x.shape[axis]; i++) fill(axis + 1, from + i * xStrides[axis], to + i * outStrides[axis]);
        block = x.shape[axis] * outStrides[axis];
      }
      const total = block * reps[axis];
      for (let filled = block; filled < total; filled *= 2) {
        dst.copyWithin(to + filled, to, to + Math.min(filled, total - filled));
      }
    };
    fill(0, 0, 0);
    return out;
  };
}

function heapBytes(backend: BackendWasm, info: tf.TensorInfo): Uint8Array {
  const view = backend.typedArrayFromHeap(info);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
