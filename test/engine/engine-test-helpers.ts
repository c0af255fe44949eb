import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

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

/**
 * Runs `build` with tfjs on `backend` and copies its result out. Tensors
 * belong to the backend that made them, so each engine builds its own
 * inputs from plain arrays inside `build`.
 */
export async function computeOn(backend: 'cpu' | 'wasm', build: () => tf.Tensor): Promise<Computed> {
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) {
    throw new Error(`could not switch tfjs to '${backend}'`);
  }
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
