import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EngineUnavailableError } from './engine-unavailable.error.js';
import { loadNativeAddon } from './native-addon.js';
import { registerNativeKernels, unregisterNativeKernels } from './native-kernels.js';
import { guardWasmAllocations, wasmModule } from './wasm-heap.js';

export type EngineName = 'tensorflow' | 'native' | 'wasm' | 'cpu';
export type EnginePreference = 'auto' | EngineName;

export interface EngineOptions {
  /**
   * Threads the native engine's kernels may use in this process (or worker
   * thread). Default 1: workers scale by processes, one job per core.
   */
  threads?: number;
  /** The native add-on to load (default: where `npm install` builds it). */
  nativeAddonPath?: string;
}

/** The engine tfjs actually runs on after {@link selectEngine}. */
export interface EngineInfo {
  name: EngineName;
  /** Version of tfjs (`tf.version.tfjs`). */
  version: string;
  /** wasm and native: whether the SIMD build of the wasm binary was loaded. */
  simd?: boolean;
  /** wasm only: whether the wasm backend runs multi-threaded (never under Node). */
  threads?: boolean;
  /** Threads the engine's kernels use (wasm: 1 under Node; native: as configured). */
  threadCount?: number;
  /** native only: the kernel library (oneDNN) and its version. */
  library?: string;
  libraryVersion?: string;
  /** native only: the implementation the library picks for convolutions here, e.g. 'jit:avx512_core'. */
  implementation?: string;
  /** wasm: our kernels registered on top of the stock ones; native: the kernels that run in the add-on. */
  kernels?: string[];
  /** 'auto' only: why faster engines were passed over, if any were. */
  fallbackReason?: string;
}

/** In the order 'auto' tries them. */
export const ENGINE_NAMES: readonly EngineName[] = ['tensorflow', 'native', 'wasm', 'cpu'];

const TFJS_NODE = '@tensorflow/tfjs-node';
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

/**
 * Makes tfjs run on the requested engine and reports the one that runs.
 *
 * 'auto' tries tensorflow (tfjs-node), then native (the wasm backend with
 * oneDNN kernels from our add-on, see NATIVE.md), then wasm with our
 * training kernels, then cpu, and says in `fallbackReason` why it passed
 * over the faster ones. An explicit preference that cannot run throws
 * {@link EngineUnavailableError}: the caller asked for that engine, so
 * silently training on a 100× slower one would be worse than failing.
 *
 * tfjs keeps one engine per process: this switches the backend for every
 * caller, and tensors made before move lazily to the new backend.
 */
export async function selectEngine(preference: EnginePreference = 'auto', options: EngineOptions = {}): Promise<EngineInfo> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`engine threads must be an integer ≥ 1, got ${threads}`);
  if (preference !== 'auto') {
    if (!ENGINE_NAMES.includes(preference)) {
      throw new EngineUnavailableError(String(preference), `unknown engine; expected one of ${ENGINE_NAMES.join(', ')} or auto`);
    }
    return activate(preference, threads, options.nativeAddonPath);
  }
  const passedOver: string[] = [];
  for (const name of ENGINE_NAMES) {
    try {
      const info = await activate(name, threads, options.nativeAddonPath);
      return passedOver.length > 0 ? { ...info, fallbackReason: passedOver.join('; ') } : info;
    } catch (err) {
      if (!(err instanceof EngineUnavailableError) || name === 'cpu') throw err;
      passedOver.push(`${name}: ${err.reason}`);
    }
  }
  throw new Error('unreachable: the cpu engine either activates or throws');
}

async function activate(name: EngineName, threads: number, nativeAddonPath?: string): Promise<EngineInfo> {
  switch (name) {
    case 'tensorflow':
      return activateTensorflow();
    case 'native':
      return activateNative(threads, nativeAddonPath);
    case 'wasm':
      return activateWasm();
    case 'cpu':
      await switchBackend('cpu');
      return { name: 'cpu', version: tf.version.tfjs };
  }
}

async function activateTensorflow(): Promise<EngineInfo> {
  try {
    // A variable specifier keeps TypeScript from resolving a package that is
    // optional and, on machines that cannot download libtensorflow, absent.
    const specifier: string = TFJS_NODE;
    await import(specifier);
  } catch (err) {
    throw new EngineUnavailableError('tensorflow', describeImportFailure(err));
  }
  await switchBackend('tensorflow');
  return { name: 'tensorflow', version: tf.version.tfjs };
}

/**
 * The wasm engine plus the add-on's kernels over its hot ones. The add-on is
 * loaded before anything switches, so a machine without it keeps whatever
 * engine it had and 'auto' moves on to wasm.
 */
async function activateNative(threads: number, addonPath?: string): Promise<EngineInfo> {
  const addon = loadNativeAddon(addonPath);
  let library: ReturnType<typeof addon.info>;
  try {
    addon.setThreads(threads);
    library = addon.info();
  } catch (err) {
    throw new EngineUnavailableError('native', `the add-on failed to start (${errorMessage(err)})`);
  }
  const wasm = await activateWasm();
  // The add-on reads tensors through the heap's ArrayBuffer; a threaded wasm build would share its memory instead.
  const heap = (wasmModule() as { HEAPU8?: Uint8Array } | null)?.HEAPU8;
  if (!heap || !(heap.buffer instanceof ArrayBuffer)) {
    throw new EngineUnavailableError('native', 'the wasm heap is not a plain ArrayBuffer (a threaded wasm build?)');
  }
  const kernels = registerNativeKernels(addon);
  return {
    name: 'native',
    version: wasm.version,
    library: library.library,
    libraryVersion: library.version,
    implementation: library.convolution,
    threadCount: library.threads,
    simd: wasm.simd,
    kernels,
  };
}

async function activateWasm(): Promise<EngineInfo> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  let kernels: string[];
  // Back to plain wasm when native ran before in this process.
  unregisterNativeKernels();
  try {
    wasm = await import(WASM_PACKAGE);
    assertWasmBinariesPresent();
    const { registerWasmTrainingKernels } = await import('./wasm-training-kernels.js');
    kernels = registerWasmTrainingKernels();
  } catch (err) {
    if (err instanceof EngineUnavailableError) throw err;
    throw new EngineUnavailableError('wasm', `${WASM_PACKAGE} failed to load (${errorMessage(err)})`);
  }
  await switchBackend('wasm');
  const module = wasmModule();
  if (module) guardWasmAllocations(module);
  return {
    name: 'wasm',
    version: tf.version.tfjs,
    simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true,
    threads: wasm.getThreadsCount() > 1,
    threadCount: wasm.getThreadsCount(),
    kernels,
  };
}

/**
 * No `setWasmPaths` is needed under Node: the package's CommonJS entry
 * (what both `import` and `require` load, as it has no `exports` map) lets
 * Emscripten read the .wasm files with `fs` from its own directory. That
 * holds only while the package is installed as published, so check it here
 * and fail with the path, rather than with Emscripten's advice about
 * serving files to a browser.
 */
function assertWasmBinariesPresent(): void {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(WASM_PACKAGE);
  } catch {
    return; // bundled or otherwise unresolvable: let tfjs try and report
  }
  const binary = path.join(path.dirname(entry), 'tfjs-backend-wasm-simd.wasm');
  if (!existsSync(binary)) {
    throw new EngineUnavailableError('wasm', `its binaries are missing (looked for ${binary})`);
  }
}

/**
 * `tf.setBackend` resolves false (after logging a warning) when a backend
 * fails to initialise, yet `tf.getBackend()` then still names it and the
 * first op silently falls back to another backend. So check the result,
 * and run one op to be sure the engine named is the one computing.
 */
async function switchBackend(name: EngineName): Promise<void> {
  let switched: boolean;
  try {
    switched = await tf.setBackend(name);
  } catch (err) {
    throw new EngineUnavailableError(name, `tf.setBackend('${name}') threw: ${errorMessage(err)}`);
  }
  if (!switched) {
    throw new EngineUnavailableError(name, `its backend failed to initialise (tfjs logged why)`);
  }
  const sum = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
  if (tf.getBackend() !== name || sum !== 3) {
    throw new EngineUnavailableError(name, `a test op ran on '${tf.getBackend()}' and gave ${sum}`);
  }
}

/** One line for logs: the engine, its library and threads, e.g. 'native (oneDNN 2.6.3, jit:avx512_core, 1 thread; tfjs 4.22.0)'. */
export function describeEngine(info: EngineInfo): string {
  const parts: string[] = [];
  if (info.library) parts.push(`${info.library} ${info.libraryVersion ?? ''}`.trim());
  if (info.implementation) parts.push(info.implementation);
  if (info.threadCount !== undefined) parts.push(`${info.threadCount} thread${info.threadCount === 1 ? '' : 's'}`);
  if (info.simd !== undefined) parts.push(`simd ${info.simd ? 'on' : 'off'}`);
  parts.push(`tfjs ${info.version}`);
  return `${info.name} (${parts.join(', ')})`;
}

function describeImportFailure(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = errorMessage(err);
  const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(TFJS_NODE);
  return missing ? `${TFJS_NODE} is not installed (${message})` : `${TFJS_NODE} is installed but failed to load (${message})`;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0];
  if (typeof err === 'object' && err !== null && 'message' in err) return String(err.message);
  return String(err);
}
