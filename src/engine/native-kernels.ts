import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeAddon } from './native-addon.js';
import {
  type NativePlanner,
  planAdd,
  planConv2d,
  planConv2dBackpropFilter,
  planConv2dBackpropInput,
  planLeadingReduction,
  planMatMul,
  planMaxPool,
  planMaxPoolGrad,
  planSqrt,
} from './native-kernel-plans.js';
import { NativeKernelError } from './native-kernel.error.js';
import type { KernelArgs } from './wasm-kernel-scope.js';

/**
 * Kernels of the native engine: registered on the wasm backend over the
 * stock ones (and over our wasm training kernels), they run in the add-on
 * on the tensors' bytes where they lie on the wasm heap. A case the add-on
 * does not take (another dtype or layout, a PReLU, an odd broadcast) goes to
 * the kernel that was registered before, so every op still runs.
 */
export const NATIVE_KERNELS = [
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'BatchMatMul',
  '_FusedMatMul',
  'MaxPool',
  'MaxPoolGrad',
  'Add',
  'Sum',
  'Mean',
  'Sqrt',
] as const;
export type NativeKernelName = (typeof NATIVE_KERNELS)[number];

const BACKEND = 'wasm';
// A global symbol, so a second copy of this module still recognises kernels registered by the first.
const NATIVE = Symbol.for('trainyard.native-kernel');

interface NativeKernelConfig extends tf.KernelConfig {
  [NATIVE]: { previous: tf.KernelConfig | undefined };
}

function isNative(config: tf.KernelConfig | undefined): config is NativeKernelConfig {
  return config !== undefined && NATIVE in config;
}

type Fallback = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

function heapOffset(backend: BackendWasm, info: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (!data || typeof data.memoryOffset !== 'number') throw new Error('a tensor of the native kernel is not on the wasm heap');
  return data.memoryOffset;
}

function heapOf(backend: BackendWasm): ArrayBuffer {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer as ArrayBuffer;
}

/**
 * A native kernel: its planner decides whether the add-on takes the call.
 * If it does, the output is allocated on the heap and the add-on is called
 * with the heap as it is after that allocation (growing the heap replaces
 * its ArrayBuffer) and the byte offsets of the tensors it reads, then of the
 * output. A shape oneDNN cannot implement goes to the fallback; any other
 * failure frees the output and becomes a {@link NativeKernelError}.
 */
function nativeKernel(kernel: NativeKernelName, fallback: Fallback, plan: NativePlanner): tf.KernelFunc {
  return (args: KernelArgs) => {
    const call = plan(args);
    if (!call) return fallback(args);
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput(call.outShape, 'float32');
    try {
      const offsets = new Float64Array(call.reads.length + 1);
      for (let i = 0; i < call.reads.length; i++) {
        const info = call.reads[i];
        offsets[i] = info ? heapOffset(backend, info) : -1;
      }
      offsets[call.reads.length] = heapOffset(backend, out);
      call.run(heapOf(backend), offsets);
    } catch (err) {
      backend.disposeData(out.dataId);
      if ((err as { code?: unknown } | null)?.code === 'ERR_NATIVE_UNSUPPORTED') return fallback(args);
      throw asKernelError(kernel, err);
    }
    return out;
  };
}

function asKernelError(kernel: string, err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_NATIVE_')) {
    const message = (err as Error).message;
    return new NativeKernelError(kernel, code, message);
  }
  return err;
}

function planners(addon: NativeAddon): Record<NativeKernelName, NativePlanner> {
  return {
    Conv2D: planConv2d(addon, false),
    FusedConv2D: planConv2d(addon, true),
    Conv2DBackpropInput: planConv2dBackpropInput(addon),
    Conv2DBackpropFilter: planConv2dBackpropFilter(addon),
    BatchMatMul: planMatMul(addon, false),
    _FusedMatMul: planMatMul(addon, true),
    MaxPool: planMaxPool(addon),
    MaxPoolGrad: planMaxPoolGrad(addon),
    Add: planAdd(addon),
    Sum: planLeadingReduction(addon, false),
    Mean: planLeadingReduction(addon, true),
    Sqrt: planSqrt(addon),
  };
}

/**
 * Registers the native kernels over whatever wasm has for them now (stock
 * or ours), which they fall back to. Idempotent. Register the wasm training
 * kernels first: registering those again later must go through
 * {@link unregisterNativeKernels}, or they would take ours for stock.
 */
export function registerNativeKernels(addon: NativeAddon): NativeKernelName[] {
  const underneath = new Map<NativeKernelName, tf.KernelConfig | undefined>();
  for (const name of NATIVE_KERNELS) {
    const current = tf.getKernel(name, BACKEND);
    underneath.set(name, isNative(current) ? current[NATIVE].previous : current);
  }
  const previous = (name: NativeKernelName): Fallback => {
    const config = underneath.get(name);
    return (args) => {
      if (!config) throw new Error(`the wasm backend has no '${name}' kernel for a case the native engine leaves to it`);
      return config.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    };
  };
  const plans = planners(addon);
  for (const kernelName of NATIVE_KERNELS) {
    const below = underneath.get(kernelName);
    const config: NativeKernelConfig = {
      kernelName,
      backendName: BACKEND,
      kernelFunc: nativeKernel(kernelName, previous(kernelName), plans[kernelName]),
      // The stock kernel's setup must have run for the fallback to work; it has, and this keeps it for a backend re-initialised later.
      setupFunc: below?.setupFunc,
      disposeFunc: below?.disposeFunc,
      [NATIVE]: { previous: below },
    };
    if (tf.getKernel(kernelName, BACKEND)) tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel(config);
  }
  return registeredNativeKernels();
}

/** Puts back the kernels that were registered before the native ones. */
export function unregisterNativeKernels(): void {
  for (const kernelName of NATIVE_KERNELS) {
    const current = tf.getKernel(kernelName, BACKEND);
    if (!isNative(current)) continue;
    tf.unregisterKernel(kernelName, BACKEND);
    const previous = current[NATIVE].previous;
    if (previous) tf.registerKernel(previous);
  }
}

/** Names of the native kernels currently registered for wasm. */
export function registeredNativeKernels(): NativeKernelName[] {
  return NATIVE_KERNELS.filter((name) => isNative(tf.getKernel(name, BACKEND)));
}
