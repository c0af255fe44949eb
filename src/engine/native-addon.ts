import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EngineUnavailableError } from './engine-unavailable.error.js';

/** Where `npm install` (native/install.mjs) builds the add-on. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/trainyard_native.node', import.meta.url));

/** The Debian packages that let `npm install` build the add-on. */
export const NATIVE_APT_PACKAGES = 'g++ make python3 libdnnl-dev';

export interface NativeAddonInfo {
  library: 'oneDNN';
  /** oneDNN's version, e.g. '2.6.3'. */
  version: string;
  /** oneDNN's threading runtime ('OpenMP' for Debian's build). */
  runtime: string;
  /** The implementation oneDNN picks for a typical convolution here, e.g. 'jit:avx512_core'. */
  convolution: string;
  threads: number;
  cachedPrimitives: number;
  workspaceBytes: number;
  calls: number;
}

/**
 * The add-on's functions (native/src/addon.cc). Every tensor is float32 on
 * the wasm heap, passed as a byte offset into `heap`; -1 for an optional
 * one that is absent. Geometry layouts are those of native-geometry.ts.
 * A failure throws an Error whose `code` starts with `ERR_NATIVE_`;
 * ERR_NATIVE_UNSUPPORTED means oneDNN has no implementation for the shape.
 */
export interface NativeAddon {
  info(): NativeAddonInfo;
  setThreads(threads: number): void;
  /** Drops cached primitives and the workspace (they are rebuilt on the next call). */
  releaseCaches(): void;
  /**
   * Test hook: the named kernel throws inside C++ on its next call (or, with
   * `unsupported`, reports its shape unsupported, which sends the call to wasm).
   */
  injectFault(kernel: string, unsupported?: boolean): void;
  conv2d(heap: ArrayBuffer, offsets: Float64Array, geometry: Float64Array, activation: number, alpha: number): void;
  conv2dBackpropInput(heap: ArrayBuffer, offsets: Float64Array, geometry: Float64Array): void;
  conv2dBackpropFilter(heap: ArrayBuffer, offsets: Float64Array, geometry: Float64Array): void;
  matMul(heap: ArrayBuffer, offsets: Float64Array, geometry: Float64Array, activation: number, alpha: number): void;
  maxPool(heap: ArrayBuffer, offsets: Float64Array, geometry: Float64Array): void;
  maxPoolGrad(heap: ArrayBuffer, offsets: Float64Array, geometry: Float64Array): void;
  /** Square root; offsets [x, y]. */
  sqrt(heap: ArrayBuffer, offsets: Float64Array, size: number): void;
  /** y[r, c] = x[r, c] + v[c]; offsets [x, v, y]. */
  addRowVector(heap: ArrayBuffer, offsets: Float64Array, rows: number, cols: number): void;
  /** y[c] = Σ_r x[r, c] (divided by rows when `mean` is 1); offsets [x, y]. */
  sumRows(heap: ArrayBuffer, offsets: Float64Array, rows: number, cols: number, mean: 0 | 1): void;
}

const loaded = new Map<string, NativeAddon>();

/**
 * Loads the add-on once per thread, or throws {@link EngineUnavailableError}
 * saying why it cannot run here (not built because the libraries were
 * missing at install time, or built but unloadable now).
 *
 * @param file the built add-on (tests point it elsewhere to see the fallback)
 */
export function loadNativeAddon(file: string = NATIVE_ADDON_PATH): NativeAddon {
  const cached = loaded.get(file);
  if (cached) return cached;
  if (!existsSync(file)) {
    throw new EngineUnavailableError(
      'native',
      `the add-on is not built (${file} is missing): install oneDNN with \`apt-get install -y ${NATIVE_APT_PACKAGES}\`, then run \`npm run build:native\``,
    );
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new EngineUnavailableError('native', `the add-on failed to load (${message})`);
  }
  loaded.set(file, addon);
  return addon;
}

/** Whether the add-on is built (it may still fail to load). */
export function nativeAddonBuilt(): boolean {
  return existsSync(NATIVE_ADDON_PATH);
}
