import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type KernelArgs, requireInput, type StockWasmKernels } from './wasm-kernel-scope.js';

/**
 * Identity, and Cast to the dtype a tensor already has, as counted aliases
 * of the input's bytes (what the stock Reshape does, and tfjs's cpu backend
 * does for both), instead of the stock kernels' copies. Tensors are never
 * written after they are made, so sharing bytes is safe. Gradients make
 * such copies all the time: on the seed net, six a step of a whole
 * first-layer activation (~6 ms of 160).
 */
export function makeIdentity(stock: StockWasmKernels): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = requireInput(args.inputs, 'x');
    if (x.dtype === 'string') return stock.identity(args as Parameters<tf.KernelFunc>[0]);
    return alias(args.backend as BackendWasm, x);
  };
}

export function makeCast(stock: StockWasmKernels): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = requireInput(args.inputs, 'x');
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    if (dtype !== x.dtype || x.dtype === 'string') return stock.cast(args as Parameters<tf.KernelFunc>[0]);
    return alias(args.backend as BackendWasm, x);
  };
}

function alias(backend: BackendWasm, x: tf.TensorInfo): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}
