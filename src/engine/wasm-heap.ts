import * as tf from '@tensorflow/tfjs';
import { WasmOutOfMemoryError } from './wasm-out-of-memory.error.js';

/**
 * Largest size the heap of tfjs-backend-wasm 4.22 can grow to: 4 GiB less
 * one 64 KiB page (`getHeapMax()` in its Emscripten glue; wasm32 addresses).
 */
export const WASM_HEAP_MAX_BYTES = 4_294_901_760;

/** The parts of tfjs-wasm's Emscripten module used here. */
export interface WasmModuleLike {
  _malloc(size: number): number;
  HEAPU8: { length: number };
  [GUARDED]?: true;
}

const GUARDED = Symbol.for('trainyard.wasm-malloc-guard');

/**
 * Makes tensor allocations on the wasm engine fail loudly.
 *
 * tfjs-wasm allocates every tensor with the module's `_malloc` and never
 * checks the result. When the heap cannot grow any more, `_malloc` returns
 * 0 and tfjs places the tensor at address 0, over the heap's own data: the
 * job goes on with corrupt memory until something reads out of bounds. A
 * size of 4 GiB or more is worse: wasm32 takes it modulo 2^32 and hands
 * out a smaller block that the kernel then overruns. Both now throw
 * {@link WasmOutOfMemoryError} before anything is written. Idempotent.
 */
export function guardWasmAllocations(module: WasmModuleLike, heapMaxBytes = WASM_HEAP_MAX_BYTES): void {
  if (module[GUARDED]) return;
  const malloc = module._malloc.bind(module);
  module._malloc = (size: number): number => {
    if (size >= heapMaxBytes) throw new WasmOutOfMemoryError(size, module.HEAPU8.length, heapMaxBytes);
    const address = malloc(size);
    if (address === 0 && size > 0) throw new WasmOutOfMemoryError(size, module.HEAPU8.length, heapMaxBytes);
    return address;
  };
  module[GUARDED] = true;
}

/** The Emscripten module of the wasm backend when it is the active one, else null. */
export function wasmModule(): WasmModuleLike | null {
  if (tf.getBackend() !== 'wasm') return null;
  return (tf.backend() as unknown as { wasm?: WasmModuleLike }).wasm ?? null;
}

/** Current size of the wasm heap in bytes (it grows and never shrinks), or null without the wasm engine. */
export function wasmHeapBytes(): number | null {
  return wasmModule()?.HEAPU8.length ?? null;
}
