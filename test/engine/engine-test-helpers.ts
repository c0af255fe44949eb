import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { nativeAddonBuilt } from '../../src/engine/native-addon.js';
import { registeredNativeKernels, unregisterNativeKernels } from '../../src/engine/native-kernels.js';
import { selectEngine } from '../../src/engine/select-engine.js';

/** Largest relative error allowed between an engine and the cpu reference. */
export const TOLERANCE = 1e-4;

/** Deterministic uniform floats in [-1, 1) (mulberry32), so failures reproduce. */
export function randomFloats(size: number, seed: number, zeroFraction = 0): Float32Array {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = next() < zeroFraction ? 0 : next() * 2 - 1;
  return out;
}

export interface Computed {
  shape: number[];
  values: Float32Array;
}

/** cpu (the reference), wasm as registered now (stock or with our kernels, never native ones), or native. */
export type TestEngine = 'cpu' | 'wasm' | 'native';

/**
 * Whether the native engine's tests run here: where the add-on is built,
 * and always when TRAINYARD_NATIVE=require (CI), so that a build that
 * silently failed there fails the tests instead of skipping them.
 */
export const NATIVE_TESTS_RUN = nativeAddonBuilt() || process.env.TRAINYARD_NATIVE === 'require';
/** Appended to the titles of native tests that are skipped, saying why. */
export const NATIVE_SKIP_REASON = NATIVE_TESTS_RUN
  ? ''
  : ' (skipped: the native add-on is not built here; apt-get install -y g++ make python3 libdnnl-dev, then npm run build:native)';

async function switchTo(engine: TestEngine): Promise<void> {
  if (engine === 'native') {
    if (tf.getBackend() !== 'wasm' || registeredNativeKernels().length === 0) await selectEngine('native');
    return;
  }
  if (engine === 'wasm' && registeredNativeKernels().length > 0) unregisterNativeKernels();
  if (!(await tf.setBackend(engine)) || tf.getBackend() !== engine) {
    throw new Error(`could not switch tfjs to '${engine}'`);
  }
}

/**
 * Runs `build` with tfjs on `engine` and copies its result out. Tensors
 * belong to the backend that made them, so each engine builds its own
 * inputs from plain arrays inside `build`.
 */
export async function computeOn(engine: TestEngine, build: () => tf.Tensor): Promise<Computed> {
  await switchTo(engine);
  const result = tf.tidy(build);
  const values = Float32Array.from(await result.data());
  const shape = result.shape;
  result.dispose();
  return { shape, values };
}

/** max |actual − expected| / max |expected| (absolute when expected is all zeros). */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** The same computation on cpu (the reference) and on wasm with our kernels. */
export async function onBothEngines(build: () => tf.Tensor): Promise<{ cpu: Computed; wasm: Computed }> {
  const cpu = await computeOn('cpu', build);
  const wasm = await computeOn('wasm', build);
  return { cpu, wasm };
}

export function expectSame(result: { cpu: Computed; wasm: Computed }): void {
  expect(result.wasm.shape).toEqual(result.cpu.shape);
  expect(relativeError(result.wasm.values, result.cpu.values)).toBeLessThanOrEqual(TOLERANCE);
}

/** `actual` within {@link TOLERANCE} (relative) of `expected`, same shape. */
export function expectClose(actual: Computed, expected: Computed, tolerance = TOLERANCE): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(relativeError(actual.values, expected.values)).toBeLessThanOrEqual(tolerance);
}

/** The same computation on cpu (the reference) and on the native engine. */
export async function onCpuAndNative(build: () => tf.Tensor): Promise<{ cpu: Computed; native: Computed }> {
  const cpu = await computeOn('cpu', build);
  const native = await computeOn('native', build);
  return { cpu, native };
}
