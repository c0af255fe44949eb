import { formatCount, type LayerPlan, type ModelPlan } from '../model-spec/index.js';
import { WASM_HEAP_MAX_BYTES } from '../engine/wasm-heap.js';
import { formatBytes, WasmOutOfMemoryError } from '../engine/wasm-out-of-memory.error.js';
import { TrainingError } from './training-error.js';

/**
 * How each engine reports that memory ran out: a wasm heap that Emscripten
 * could not grow or that aborted for lack of memory, V8 refusing a large
 * typed array (the cpu engine), TensorFlow's resource-exhausted status
 * (tfjs-node). Only RangeError and WebAssembly's RuntimeError are read
 * loosely: an "out of memory" from, say, the database is not the model's.
 */
const ENGINE_MESSAGES = [/OOM when allocating/, /ResourceExhausted/];
const MEMORY_ERROR_MESSAGES = [/Cannot enlarge memory/i, /Aborted\(OOM\)/, /out of memory/i, /Array buffer allocation failed/i, /could not (allocate|grow) memory/i];

/** Whether `err` says that the engine ran out of memory. */
export function isOutOfMemoryError(err: unknown): boolean {
  if (err instanceof WasmOutOfMemoryError) return true;
  if (!(err instanceof Error)) return false;
  // Our allocation guard's error, also when it arrives serialised from another process.
  if (err.name === 'WasmOutOfMemoryError') return true;
  if (ENGINE_MESSAGES.some((pattern) => pattern.test(err.message))) return true;
  return (err.name === 'RangeError' || err.name === 'RuntimeError') && MEMORY_ERROR_MESSAGES.some((pattern) => pattern.test(err.message));
}

/** Whether the wasm module aborted: it is unusable for the rest of this process's life. */
export function isWasmAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'RuntimeError' && /^Aborted\(/.test(err.message);
}

export interface MemoryContext {
  plan: ModelPlan;
  /** The job's training.batchSize. */
  batchSize: number;
  /** Examples in the training set: a batch is never larger. */
  trainExamples?: number;
  engine: string;
  optimizer: string;
}

const BYTES_PER_VALUE = 4;

/** Values of all layer outputs for one example, inception branches included. */
export function activationValuesPerExample(layers: readonly LayerPlan[]): number {
  let total = 0;
  for (const layer of layers) {
    total += layer.outputShape.reduce((a, b) => a * b, 1);
    for (const branch of layer.branches ?? []) total += activationValuesPerExample(branch);
  }
  return total;
}

/** Copies of the weights held while training: the weights, their gradients, and the optimizer's slots. */
function weightCopies(optimizer: string): number {
  switch (optimizer) {
    case 'adam':
      return 4;
    case 'momentum':
    case 'rmsprop':
      return 3;
    default:
      return 2;
  }
}

/**
 * The failure a user sees when training runs out of memory: what ran out,
 * what this job needs by a rough estimate (weights with gradients and
 * optimizer state; layer outputs and their gradients for each example of a
 * batch), and what to lower, with a batch size that would fit when there
 * is one.
 */
export function outOfMemoryError(cause: unknown, ctx: MemoryContext): TrainingError {
  const batch = Math.max(1, Math.min(ctx.batchSize, ctx.trainExamples ?? ctx.batchSize));
  const perExampleBytes = 2 * BYTES_PER_VALUE * activationValuesPerExample(ctx.plan.layers);
  const copies = weightCopies(ctx.optimizer);
  const weightBytes = copies * ctx.plan.weightBytes;
  const batchBytes = perExampleBytes * batch;
  // The native engine keeps every tensor on the wasm heap too; only its kernels run elsewhere.
  const wasm = ctx.engine === 'wasm' || ctx.engine === 'native';
  const limit = wasm ? ` (its heap holds at most ${formatBytes(WASM_HEAP_MAX_BYTES)})` : '';
  const asked = cause instanceof WasmOutOfMemoryError ? `: a tensor of ${formatBytes(cause.requestedBytes)} did not fit` : '';
  const needs =
    `The model has ${formatCount(ctx.plan.totalParams)} parameters (${formatBytes(ctx.plan.weightBytes)} of weights, ` +
    `about ${formatBytes(weightBytes)} with gradients${copies > 2 ? ` and ${ctx.optimizer}'s state` : ''}) and its layer outputs take about ` +
    `${formatBytes(perExampleBytes)} per example with their gradients, about ${formatBytes(batchBytes)} for a batch of ${batch}`;

  let advice: string;
  // Keep a margin: tfjs holds temporaries and the dataset lives on the heap too.
  const budget = wasm ? WASM_HEAP_MAX_BYTES / 2 - weightBytes : Number.NaN;
  if (weightBytes >= batchBytes) {
    advice = 'The weights dominate: use fewer units or filters, or add pooling before the largest dense layer; a smaller batch will not help much.';
  } else if (wasm && budget > perExampleBytes) {
    const fits = 2 ** Math.floor(Math.log2(Math.min(batch - 1, budget / perExampleBytes)));
    advice =
      fits >= 1 && fits < batch
        ? `Lower training.batchSize (now ${ctx.batchSize}), to ${fits} or less, or use fewer filters or a smaller input.`
        : `Lower training.batchSize (now ${ctx.batchSize}), or use fewer filters or a smaller input.`;
  } else if (wasm) {
    advice = 'Even one example does not fit: use fewer filters, more pooling or strides, or a smaller input.';
  } else {
    advice = `Lower training.batchSize (now ${ctx.batchSize}), or use fewer filters or units.`;
  }
  return new TrainingError('out-of-memory', `training ran out of memory on the ${ctx.engine} engine${limit}${asked}. ${needs}. ${advice}`);
}
