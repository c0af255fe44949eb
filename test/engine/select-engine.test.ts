import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { EngineUnavailableError } from '../../src/engine/engine-unavailable.error.js';
import { NATIVE_KERNELS, registeredNativeKernels } from '../../src/engine/native-kernels.js';
import { type EnginePreference, selectEngine } from '../../src/engine/select-engine.js';
import { registeredWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../src/engine/wasm-training-kernels.js';
import { NATIVE_SKIP_REASON, NATIVE_TESTS_RUN } from './engine-test-helpers.js';

/**
 * Whether a package loads, asked of a child process so that a package that
 * does load (tfjs-node registers its backend) changes nothing here. npm may
 * leave tfjs-node's folder behind when its libtensorflow download fails, so
 * resolving it is not enough.
 */
function loads(pkg: string): boolean {
  return spawnSync(process.execPath, ['-e', `require(${JSON.stringify(pkg)})`], { cwd: __dirname, stdio: 'ignore' }).status === 0;
}

// tfjs-node cannot install on our machines, but does where users deploy.
const hasTfjsNode = loads('@tensorflow/tfjs-node');
/** What auto says of tfjs-node here: absent, or present without its native binding. */
const TFJS_NODE_MISSING = /^tensorflow: @tensorflow\/tfjs-node is (not installed|installed but failed to load) \(/;

// Where the native add-on is not: auto is asked to load it from a path that does not exist.
const MISSING_ADDON = '/nonexistent/trainyard_native.node';

describe('selectEngine', () => {
  it.skipIf(hasTfjsNode)('auto falls back to wasm with our kernels when the native add-on is missing, and says why', async () => {
    const engine = await selectEngine('auto', { nativeAddonPath: MISSING_ADDON });
    expect(engine).toMatchObject({
      name: 'wasm',
      version: tf.version.tfjs,
      simd: true,
      threads: false,
      kernels: [...WASM_TRAINING_KERNELS],
    });
    expect(engine.fallbackReason).toMatch(TFJS_NODE_MISSING);
    expect(engine.fallbackReason).toContain(
      `; native: the add-on is not built (${MISSING_ADDON} is missing): install oneDNN with \`apt-get install -y g++ make python3 libdnnl-dev\`, then run \`npm run build:native\``,
    );
    expect(tf.getBackend()).toBe('wasm');
    expect(registeredNativeKernels()).toEqual([]);
  });

  it.skipIf(hasTfjsNode || !NATIVE_TESTS_RUN)(`auto picks native where the add-on is built and tfjs-node is not${NATIVE_SKIP_REASON}`, async () => {
    const engine = await selectEngine();
    expect(engine).toMatchObject({
      name: 'native',
      version: tf.version.tfjs,
      library: 'oneDNN',
      libraryVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      implementation: expect.any(String),
      threadCount: 1,
      simd: true,
      kernels: [...NATIVE_KERNELS],
    });
    expect(engine.fallbackReason).toMatch(TFJS_NODE_MISSING);
    expect(tf.getBackend()).toBe('wasm');
    // Native kernels sit on top of ours, which handle what the add-on leaves to wasm.
    expect(registeredNativeKernels()).toEqual([...NATIVE_KERNELS]);
  });

  it.skipIf(!NATIVE_TESTS_RUN)(`native runs the threads it is given, and wasm afterwards drops the native kernels${NATIVE_SKIP_REASON}`, async () => {
    expect(await selectEngine('native', { threads: 2 })).toMatchObject({ name: 'native', threadCount: 2 });
    expect(await selectEngine('native')).toMatchObject({ name: 'native', threadCount: 1 });
    const wasm = await selectEngine('wasm');
    expect(wasm).toMatchObject({ name: 'wasm', threadCount: 1, kernels: [...WASM_TRAINING_KERNELS] });
    expect(registeredNativeKernels()).toEqual([]);
    expect(registeredWasmTrainingKernels()).toEqual([...WASM_TRAINING_KERNELS]);
  });

  it('refuses an explicit native engine it cannot load, naming what to install', async () => {
    await expect(selectEngine('native', { nativeAddonPath: MISSING_ADDON })).rejects.toMatchObject({
      code: 'ENGINE_UNAVAILABLE',
      engine: 'native',
      message: expect.stringMatching(/^engine 'native' is not available: the add-on is not built \(.*apt-get install -y g\+\+ make python3 libdnnl-dev/),
    });
  });

  it('rejects a thread count that is not a positive integer', async () => {
    await expect(selectEngine('wasm', { threads: 0 })).rejects.toThrow(/engine threads must be an integer ≥ 1, got 0/);
    await expect(selectEngine('wasm', { threads: 1.5 })).rejects.toThrow(/got 1.5/);
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
      message: expect.stringMatching(/^engine 'tensorflow' is not available: @tensorflow\/tfjs-node is (not installed|installed but failed to load) \(/),
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
