import * as tf from '@tensorflow/tfjs';
import { EngineUnavailableError } from '../src/engine/engine-unavailable.error.js';
import { selectEngine } from '../src/engine/select-engine.js';
import { loadAverage } from './machine.js';
import { pytorchSgemmGflops } from './pytorch-baseline.js';

/**
 * The machine's one-core float32 SGEMM peak, measured (never assumed): the
 * best n³ product of every library at hand, one thread each. "% of peak"
 * figures divide by it.
 */
export interface SgemmPeak {
  gflops: number;
  /** Which library and size gave it. */
  source: string;
  figures: { library: string; n: number; gflops: number; load: string }[];
}

const SIZES = [1024, 2048];

/** An n³ product on the current tfjs engine, best of `reps`; the first call (packing, JIT) is not timed. */
export function tfjsMatMulGflops(n: number, reps = 5): number {
  const [a, b] = tf.tidy(() => [tf.randomUniform([n, n], -1, 1, 'float32', 3), tf.randomUniform([n, n], -1, 1, 'float32', 4)]);
  const once = (): void => tf.tidy(() => void tf.matMul(a, b).dataSync());
  once();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    once();
    best = Math.min(best, performance.now() - start);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

export async function measureSgemmPeak(options: { native: boolean; pytorch: boolean }): Promise<SgemmPeak> {
  const figures: SgemmPeak['figures'] = [];
  if (options.native) {
    try {
      const engine = await selectEngine('native');
      for (const n of SIZES) figures.push({ library: `${engine.library} ${engine.libraryVersion} sgemm (native engine)`, n, gflops: tfjsMatMulGflops(n), load: loadAverage() });
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
    }
  }
  await selectEngine('wasm');
  figures.push({ library: 'XNNPACK (wasm engine)', n: 1024, gflops: tfjsMatMulGflops(1024, 3), load: loadAverage() });
  if (options.pytorch) {
    for (const [n, gflops] of pytorchSgemmGflops(SIZES)) figures.push({ library: 'PyTorch torch.mm (its BLAS)', n, gflops, load: loadAverage() });
  }
  const best = figures.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  const torch = figures.filter((f) => f.library.startsWith('PyTorch'));
  if (torch.length && Math.max(...torch.map((f) => f.gflops)) < 0.25 * best.gflops) {
    // Debian's reference BLAS behind torch.mm (seen here: 6 GFLOP/s against OpenBLAS's 100).
    console.log('  PyTorch runs on a slow BLAS (its dense layers will be too): install OpenBLAS (apt-get install -y libopenblas0-openmp) before comparing with it');
  }
  return { gflops: best.gflops, source: `${best.library}, n=${best.n}`, figures };
}
