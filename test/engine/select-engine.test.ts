import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { EngineUnavailableError } from '../../src/engine/engine-unavailable.error.js';
import { selectEngine, type EnginePreference } from '../../src/engine/select-engine.js';
import { WASM_TRAINING_KERNELS } from '../../src/engine/wasm-training-kernels.js';

function isInstalled(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

// tfjs-node cannot install on our machines, but does where users deploy.
const hasTfjsNode = isInstalled('@tensorflow/tfjs-node');

describe('selectEngine', () => {
  it.skipIf(hasTfjsNode)('auto falls back to wasm with our kernels and says why', async () => {
    const engine = await selectEngine();
    expect(engine).toMatchObject({
      name: 'wasm',
      version: tf.version.tfjs,
      simd: true,
      threads: false,
      kernels: [...WASM_TRAINING_KERNELS],
    });
    expect(engine.fallbackReason).toMatch(/^tensorflow: @tensorflow\/tfjs-node is not installed/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it.skipIf(!hasTfjsNode)('auto picks tensorflow where tfjs-node is installed', async () => {
    const engine = await selectEngine();
    expect(engine.name).toBe('tensorflow');
    expect(engine.fallbackReason).toBeUndefined();
  });

  it.skipIf(hasTfjsNode)('refuses an explicit tensorflow it cannot load', async () => {
    const failure = selectEngine('tensorflow');
    await expect(failure).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(failure).rejects.toMatchObject({
      code: 'ENGINE_UNAVAILABLE',
      engine: 'tensorflow',
      message: expect.stringMatching(/^engine 'tensorflow' is not available: @tensorflow\/tfjs-node is not installed \(/),
    });
  });

  it('switches between explicit engines and reports the one running', async () => {
    expect(await selectEngine('cpu')).toEqual({ name: 'cpu', version: tf.version.tfjs });
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await selectEngine('wasm');
    expect(wasm.name).toBe('wasm');
    expect(wasm.fallbackReason).toBeUndefined();
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown engine by name', async () => {
    await expect(selectEngine('gpu' as EnginePreference)).rejects.toThrow(/engine 'gpu' is not available: unknown engine/);
  });
});
