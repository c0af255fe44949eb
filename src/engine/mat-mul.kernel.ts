import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allFloat32, requireInput, WasmKernelScope, type KernelArgs, type StockWasmKernels } from './wasm-kernel-scope.js';

/**
 * BatchMatMul for wasm that keeps transposed products on XNNPACK.
 *
 * The stock kernel hands a product to XNNPACK's fully-connected operator
 * only when neither operand is transposed and both have batch 1; anything
 * else runs a scalar triple loop, 10–25× slower (1.3–3.3 vs 33 GFLOP/s at
 * 512³ here). A dense layer's gradients are exactly such products (dy·Wᵀ
 * and xᵀ·dy), so we materialise transposes and take the fast path. Of the
 * two equivalent forms, op(A)·op(B) and (op(B)ᵀ·op(A)ᵀ)ᵀ, we pick the one
 * that moves the fewest floats: each materialised transpose copies its
 * operand, and XNNPACK repacks the right operand on every call because
 * gradients are new tensors each step.
 */
export function makeBatchMatMul(stock: StockWasmKernels): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const a = requireInput(inputs, 'a');
    const b = requireInput(inputs, 'b');
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const plain = !transposeA && !transposeB;
    if (plain || !allFloat32(a, b) || batchSize(a) !== 1 || batchSize(b) !== 1) {
      return stock.batchMatMul(args as Parameters<tf.KernelFunc>[0]);
    }

    const scope = new WasmKernelScope(backend as BackendWasm, stock);
    try {
      const a2 = scope.view(a, a.shape.slice(-2));
      const b2 = scope.view(b, b.shape.slice(-2));
      const m = transposeA ? a2.shape[1] : a2.shape[0];
      const n = transposeB ? b2.shape[0] : b2.shape[1];
      const sizeA = a2.shape[0] * a2.shape[1];
      const sizeB = b2.shape[0] * b2.shape[1];
      const direct = (transposeA ? sizeA : 0) + (transposeB ? sizeB : 0) + sizeB;
      const swapped = (transposeA ? 0 : sizeA) + (transposeB ? 0 : sizeB) + sizeA + m * n;

      const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
      if (direct <= swapped) {
        const left = transposeA ? scope.transpose(a2, [1, 0]) : a2;
        const right = transposeB ? scope.transpose(b2, [1, 0]) : b2;
        return scope.view(scope.matMul(left, right), outShape);
      }
      // Cᵀ = op(B)ᵀ · op(A)ᵀ: a transposed operand enters as it is stored.
      const left = transposeB ? b2 : scope.transpose(b2, [1, 0]);
      const right = transposeA ? a2 : scope.transpose(a2, [1, 0]);
      const productT = scope.temp(scope.matMul(left, right));
      return scope.view(scope.transposeOwned(productT, [1, 0]), outShape);
    } finally {
      scope.dispose();
    }
  };
}

function batchSize(x: tf.TensorInfo): number {
  return tf.util.sizeFromShape(x.shape.slice(0, -2));
}
