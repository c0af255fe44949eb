import * as tf from '@tensorflow/tfjs';
// Side effect: registers the wasm backend and its stock kernels, which ours wrap.
import '@tensorflow/tfjs-backend-wasm';
import { makeCast, makeIdentity } from './alias.kernels.js';
import { makeConv2dBackpropFilter } from './conv2d-backprop-filter.kernel.js';
import { makeConv2dBackpropInput } from './conv2d-backprop-input.kernel.js';
import { makeBatchMatMul } from './mat-mul.kernel.js';
import { makeAvgPoolGrad, makeMaxPoolGrad } from './pool-grad.kernels.js';
import { unregisterNativeKernels } from './native-kernels.js';
import { makeMean, makeSum } from './reduce.kernels.js';
import { makeTile } from './tile.kernel.js';
import type { StockWasmKernels } from './wasm-kernel-scope.js';

/** Kernels we register for the wasm backend, in registration order. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'BatchMatMul',
  'MaxPoolGrad',
  'AvgPoolGrad',
  'Sum',
  'Mean',
  'Tile',
  'Identity',
  'Cast',
] as const;
export type WasmTrainingKernel = (typeof WASM_TRAINING_KERNELS)[number];

const BACKEND = 'wasm';
// A global symbol, so a second copy of this module (a test runner may load
// one) still recognises kernels registered by the first.
const OURS = Symbol.for('trainyard.wasm-training-kernel');

interface OurKernelConfig extends tf.KernelConfig {
  [OURS]: { stock: tf.KernelConfig | undefined };
}

function isOurs(config: tf.KernelConfig | undefined): config is OurKernelConfig {
  return config !== undefined && OURS in config;
}

/** The stock config for a kernel, looking through one of ours. */
function stockConfig(kernelName: string): tf.KernelConfig | undefined {
  const current = tf.getKernel(kernelName, BACKEND);
  return isOurs(current) ? current[OURS].stock : current;
}

function requireStock(kernelName: string): tf.KernelFunc {
  const config = stockConfig(kernelName);
  if (!config) throw new Error(`the wasm backend has no stock '${kernelName}' kernel to build on`);
  return config.kernelFunc;
}

function factories(stock: StockWasmKernels): Record<WasmTrainingKernel, tf.KernelFunc> {
  return {
    Conv2DBackpropFilter: makeConv2dBackpropFilter(stock),
    Conv2DBackpropInput: makeConv2dBackpropInput(stock),
    BatchMatMul: makeBatchMatMul(stock),
    MaxPoolGrad: makeMaxPoolGrad(stock),
    AvgPoolGrad: makeAvgPoolGrad(stock),
    Sum: makeSum(stock),
    Mean: makeMean(stock),
    Tile: makeTile(stock),
    Identity: makeIdentity(stock),
    Cast: makeCast(stock),
  };
}

/**
 * Registers our training kernels for the wasm backend and returns the names
 * of those now in place. Idempotent; may run before or after the backend
 * initialises. A kernel we replace keeps its stock `setupFunc`, because the
 * stock kernel functions we delegate to depend on it having run.
 *
 * Native kernels (native-kernels.ts) sit on top of these when the native
 * engine runs; they are taken off first, so that this never mistakes one of
 * them for a stock kernel. The wasm engine is what this sets up.
 *
 * @param only register just these (default: all of {@link WASM_TRAINING_KERNELS});
 *   kernels of ours not listed are restored to stock. Used to measure baselines.
 */
export function registerWasmTrainingKernels(only: readonly WasmTrainingKernel[] = WASM_TRAINING_KERNELS): WasmTrainingKernel[] {
  unregisterNativeKernels();
  const stock: StockWasmKernels = {
    conv2d: requireStock('Conv2D'),
    transpose: requireStock('Transpose'),
    batchMatMul: requireStock('BatchMatMul'),
    conv2dBackpropInput: requireStock('Conv2DBackpropInput'),
    sum: requireStock('Sum'),
    mean: requireStock('Mean'),
    tile: requireStock('Tile'),
    maxPoolGrad: requireStock('MaxPoolGrad'),
    avgPoolGrad: requireStock('AvgPoolGrad'),
    identity: requireStock('Identity'),
    cast: requireStock('Cast'),
  };
  const made = factories(stock);
  for (const kernelName of WASM_TRAINING_KERNELS) {
    const current = tf.getKernel(kernelName, BACKEND);
    const wanted = only.includes(kernelName);
    if (wanted === isOurs(current)) continue;
    if (!wanted) {
      restoreStock(kernelName);
      continue;
    }
    const config: OurKernelConfig = {
      kernelName,
      backendName: BACKEND,
      kernelFunc: made[kernelName],
      setupFunc: current?.setupFunc,
      disposeFunc: current?.disposeFunc,
      [OURS]: { stock: current },
    };
    // Unregister first: registerKernel over an existing key logs a warning.
    if (current) tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel(config);
  }
  return registeredWasmTrainingKernels();
}

/** Puts the stock wasm kernels back (the missing ones stay missing), native ones off too. */
export function unregisterWasmTrainingKernels(): void {
  unregisterNativeKernels();
  for (const kernelName of WASM_TRAINING_KERNELS) restoreStock(kernelName);
}

/** Names of our kernels currently registered for wasm. */
export function registeredWasmTrainingKernels(): WasmTrainingKernel[] {
  return WASM_TRAINING_KERNELS.filter((name) => isOurs(tf.getKernel(name, BACKEND)));
}

function restoreStock(kernelName: WasmTrainingKernel): void {
  const current = tf.getKernel(kernelName, BACKEND);
  if (!isOurs(current)) return;
  tf.unregisterKernel(kernelName, BACKEND);
  const stock = current[OURS].stock;
  if (stock) tf.registerKernel(stock);
}
