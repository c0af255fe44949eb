import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeAddon } from './native-addon.js';
import { convGeometry, matMulPlan, NATIVE_ACTIVATIONS, poolGeometry } from './native-geometry.js';
import { NativeKernelError } from './native-kernel.error.js';
import { allFloat32, assertShape, type KernelArgs, requireInput, type Shape4 } from './wasm-kernel-scope.js';

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
 * Allocates the output on the heap, then calls the add-on with the heap as
 * it is after that allocation (growing the heap replaces its ArrayBuffer).
 * A shape oneDNN cannot implement goes to the fallback; any other failure
 * frees the output and becomes a {@link NativeKernelError}.
 */
function runNative(kernel: string, args: KernelArgs, fallback: Fallback, outShape: number[], call: (heap: ArrayBuffer, out: number) => void): tf.TensorInfo | tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const out = backend.makeOutput(outShape, 'float32');
  try {
    call(heapOf(backend), heapOffset(backend, out));
  } catch (err) {
    backend.disposeData(out.dataId);
    if ((err as { code?: unknown } | null)?.code === 'ERR_NATIVE_UNSUPPORTED') return fallback(args);
    throw asKernelError(kernel, err);
  }
  return out;
}

function asKernelError(kernel: string, err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_NATIVE_')) {
    const message = (err as Error).message;
    return new NativeKernelError(kernel, code, message);
  }
  return err;
}

function assertRank4(name: string, info: tf.TensorInfo): void {
  if (info.shape.length !== 4) throw new Error(`${name} must be rank 4, got shape [${info.shape}]`);
}

function sizeOf(info: tf.TensorInfo): number {
  return tf.util.sizeFromShape(info.shape);
}

type ConvAttrs = tf.Conv2DAttrs & { dilations?: number | [number, number] };

function makeConv2d(addon: NativeAddon, fallback: Fallback): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const x = requireInput(inputs, 'x');
    const filter = requireInput(inputs, 'filter');
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as ConvAttrs;
    if (dataFormat === 'NCHW' || !allFloat32(x, filter)) return fallback(args);
    assertRank4('x', x);
    assertRank4('filter', filter);
    if (filter.shape[2] !== x.shape[3]) throw new Error(`Conv2D: filter has ${filter.shape[2]} input channels, x has ${x.shape[3]}`);
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, strides, dilations ?? 1, pad, dimRoundingMode, false, 'channelsLast');
    const geometry = convGeometry(info);
    if (!geometry) return fallback(args);
    return runNative('Conv2D', args, fallback, info.outShape, (heap, out) =>
      addon.conv2d(heap, Float64Array.of(heapOffset(backend, x), heapOffset(backend, filter), -1, out), geometry, 0, 0),
    );
  };
}

function makeFusedConv2d(addon: NativeAddon, fallback: Fallback): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const x = requireInput(inputs, 'x');
    const filter = requireInput(inputs, 'filter');
    const { bias, preluActivationWeights } = inputs;
    const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } = attrs as unknown as tf.FusedConv2DAttrs;
    const code = NATIVE_ACTIVATIONS[activation ?? 'linear'];
    if (dataFormat === 'NCHW' || code === undefined || preluActivationWeights || !allFloat32(x, filter, ...(bias ? [bias] : []))) return fallback(args);
    assertRank4('x', x);
    assertRank4('filter', filter);
    if (filter.shape[2] !== x.shape[3]) throw new Error(`FusedConv2D: filter has ${filter.shape[2]} input channels, x has ${x.shape[3]}`);
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
    const geometry = convGeometry(info);
    // A bias that broadcasts from fewer values than output channels stays on wasm.
    if (!geometry || (bias && sizeOf(bias) !== info.outChannels)) return fallback(args);
    return runNative('FusedConv2D', args, fallback, info.outShape, (heap, out) =>
      addon.conv2d(heap, Float64Array.of(heapOffset(backend, x), heapOffset(backend, filter), bias ? heapOffset(backend, bias) : -1, out), geometry, code, leakyreluAlpha ?? 0.2),
    );
  };
}

function makeConv2dBackpropInput(addon: NativeAddon, fallback: Fallback): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const dy = requireInput(inputs, 'dy');
    const filter = requireInput(inputs, 'filter');
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (dataFormat === 'NCHW' || !allFloat32(dy, filter)) return fallback(args);
    assertRank4('dy', dy);
    assertRank4('filter', filter);
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    assertShape('dy', dy.shape, info.outShape);
    if (filter.shape[2] !== inputShape[3]) throw new Error(`Conv2DBackpropInput: filter has ${filter.shape[2]} input channels, inputShape has ${inputShape[3]}`);
    const geometry = convGeometry(info);
    if (!geometry) return fallback(args);
    return runNative('Conv2DBackpropInput', args, fallback, [...inputShape], (heap, out) =>
      addon.conv2dBackpropInput(heap, Float64Array.of(heapOffset(backend, dy), heapOffset(backend, filter), out), geometry),
    );
  };
}

function makeConv2dBackpropFilter(addon: NativeAddon, fallback: Fallback): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const x = requireInput(inputs, 'x');
    const dy = requireInput(inputs, 'dy');
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (dataFormat === 'NCHW' || !allFloat32(x, dy)) return fallback(args);
    assertRank4('x', x);
    assertRank4('dy', dy);
    if (filterShape[2] !== x.shape[3]) throw new Error(`Conv2DBackpropFilter: filterShape has ${filterShape[2]} input channels, x has ${x.shape[3]}`);
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    assertShape('dy', dy.shape, info.outShape);
    const geometry = convGeometry(info);
    if (!geometry) return fallback(args);
    return runNative('Conv2DBackpropFilter', args, fallback, [...filterShape], (heap, out) =>
      addon.conv2dBackpropFilter(heap, Float64Array.of(heapOffset(backend, x), heapOffset(backend, dy), out), geometry),
    );
  };
}

function makeMatMul(addon: NativeAddon, fallback: Fallback, fused: boolean): tf.KernelFunc {
  const kernel = fused ? '_FusedMatMul' : 'BatchMatMul';
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const a = requireInput(inputs, 'a');
    const b = requireInput(inputs, 'b');
    const bias = fused ? inputs.bias : undefined;
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as tf._FusedMatMulAttrs;
    const code = NATIVE_ACTIVATIONS[fused ? (activation ?? 'linear') : 'linear'];
    if (code === undefined || (fused && inputs.preluActivationWeights) || !allFloat32(a, b, ...(bias ? [bias] : []))) return fallback(args);
    if (a.shape.length < 2 || b.shape.length < 2) throw new Error(`${kernel}: a and b must have rank 2 or more, got [${a.shape}] and [${b.shape}]`);
    const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const plan = matMulPlan(a.shape, b.shape, transposeA, transposeB, outBatch);
    if (!plan) {
      const k = [transposeA ? a.shape.at(-2) : a.shape.at(-1), transposeB ? b.shape.at(-1) : b.shape.at(-2)];
      if (k[0] !== k[1]) throw new Error(`${kernel}: inner dimensions of [${a.shape}] and [${b.shape}] (transposeA ${transposeA}, transposeB ${transposeB}) must match`);
      return fallback(args);
    }
    const n = plan.outShape[plan.outShape.length - 1];
    // A bias that is not one value per output column (a scalar, a per-row one) stays on wasm.
    if (bias && (sizeOf(bias) !== n || bias.shape[bias.shape.length - 1] !== n)) return fallback(args);
    return runNative(kernel, args, fallback, plan.outShape, (heap, out) =>
      addon.matMul(heap, Float64Array.of(heapOffset(backend, a), heapOffset(backend, b), bias ? heapOffset(backend, bias) : -1, out), plan.geometry, code, leakyreluAlpha ?? 0.2),
    );
  };
}

function makeMaxPool(addon: NativeAddon, fallback: Fallback): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const x = requireInput(inputs, 'x');
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolAttrs;
    if (!allFloat32(x)) return fallback(args);
    assertRank4('x', x);
    const info = tf.backend_util.computePool2DInfo(x.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
    const geometry = poolGeometry(info);
    if (!geometry) return fallback(args);
    return runNative('MaxPool', args, fallback, info.outShape, (heap, out) => addon.maxPool(heap, Float64Array.of(heapOffset(backend, x), out), geometry));
  };
}

function makeMaxPoolGrad(addon: NativeAddon, fallback: Fallback): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const dy = requireInput(inputs, 'dy');
    const input = requireInput(inputs, 'input');
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    if (!allFloat32(dy, input)) return fallback(args);
    assertRank4('input', input);
    const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
    assertShape('dy', dy.shape, info.outShape);
    const geometry = poolGeometry(info);
    if (!geometry) return fallback(args);
    return runNative('MaxPoolGrad', args, fallback, [...input.shape], (heap, out) =>
      addon.maxPoolGrad(heap, Float64Array.of(heapOffset(backend, input), heapOffset(backend, dy), out), geometry),
    );
  };
}

/**
 * Add where one side is a vector along the other's last axis (a bias: the
 * wasm kernel broadcasts it element by element, 3x slower on the seed net's
 * first layer). Same-shape and other broadcasts stay on wasm.
 */
function makeAdd(addon: NativeAddon, fallback: Fallback): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs } = args;
    const backend = args.backend as BackendWasm;
    const a = requireInput(inputs, 'a');
    const b = requireInput(inputs, 'b');
    if (!allFloat32(a, b)) return fallback(args);
    const [big, vector] = sizeOf(a) >= sizeOf(b) ? [a, b] : [b, a];
    const cols = big.shape[big.shape.length - 1];
    const isRowVector =
      big.shape.length >= 1 &&
      vector.shape.length >= 1 &&
      vector.shape.length <= big.shape.length &&
      vector.shape[vector.shape.length - 1] === cols &&
      sizeOf(vector) === cols &&
      sizeOf(big) > cols;
    if (!isRowVector || cols === 0) return fallback(args);
    return runNative('Add', args, fallback, [...big.shape], (heap, out) =>
      addon.addRowVector(heap, Float64Array.of(heapOffset(backend, big), heapOffset(backend, vector), out), sizeOf(big) / cols, cols),
    );
  };
}

/** Sum and Mean over leading axes (bias gradients, batch statistics), in float64 as on cpu; others stay on wasm. */
function makeLeadingReduction(addon: NativeAddon, fallback: Fallback, mean: boolean): tf.KernelFunc {
  const kernel = mean ? 'Mean' : 'Sum';
  return (args: KernelArgs) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const x = requireInput(inputs, 'x');
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (!leading || !allFloat32(x) || sizeOf(x) === 0) return fallback(args);
    const kept = x.shape.slice(axes.length);
    const cols = tf.util.sizeFromShape(kept);
    const rows = sizeOf(x) / cols;
    return runNative(kernel, args, fallback, keepDims ? [...axes.map(() => 1), ...kept] : kept, (heap, out) =>
      addon.sumRows(heap, Float64Array.of(heapOffset(backend, x), out), rows, cols, mean ? 1 : 0),
    );
  };
}

/** Square root: Adam takes one of every weight each step, and wasm's is not vectorised (6 ms vs 0.7 ms for the seed net's 3.2 M). */
function makeSqrt(addon: NativeAddon, fallback: Fallback): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = requireInput(args.inputs, 'x');
    const backend = args.backend as BackendWasm;
    if (!allFloat32(x) || sizeOf(x) === 0) return fallback(args);
    return runNative('Sqrt', args, fallback, [...x.shape], (heap, out) => addon.sqrt(heap, Float64Array.of(heapOffset(backend, x), out), sizeOf(x)));
  };
}

function factories(addon: NativeAddon, previous: (name: NativeKernelName) => Fallback): Record<NativeKernelName, tf.KernelFunc> {
  return {
    Conv2D: makeConv2d(addon, previous('Conv2D')),
    FusedConv2D: makeFusedConv2d(addon, previous('FusedConv2D')),
    Conv2DBackpropInput: makeConv2dBackpropInput(addon, previous('Conv2DBackpropInput')),
    Conv2DBackpropFilter: makeConv2dBackpropFilter(addon, previous('Conv2DBackpropFilter')),
    BatchMatMul: makeMatMul(addon, previous('BatchMatMul'), false),
    _FusedMatMul: makeMatMul(addon, previous('_FusedMatMul'), true),
    MaxPool: makeMaxPool(addon, previous('MaxPool')),
    MaxPoolGrad: makeMaxPoolGrad(addon, previous('MaxPoolGrad')),
    Add: makeAdd(addon, previous('Add')),
    Sum: makeLeadingReduction(addon, previous('Sum'), false),
    Mean: makeLeadingReduction(addon, previous('Mean'), true),
    Sqrt: makeSqrt(addon, previous('Sqrt')),
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
  const made = factories(addon, previous);
  for (const kernelName of NATIVE_KERNELS) {
    const below = underneath.get(kernelName);
    const config: NativeKernelConfig = {
      kernelName,
      backendName: BACKEND,
      kernelFunc: made[kernelName],
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
