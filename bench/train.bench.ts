/**
 * Training throughput per model and engine: `npm run bench:train [-- options]`.
 *
 *   --batch-size N     samples per batch (128)
 *   --warmup N         untimed batches first (2): XNNPACK builds its operators
 *                      and V8 compiles the kernels on the first ones
 *   --batches N        timed batches (20), cut short after --max-seconds (20)
 *   --models a,b       seed-mnist, tiny-cnn, mlp (all)
 *   --engines a,b      tensorflow, native, wasm, cpu (all; unavailable ones are skipped)
 *   --skip-baseline    skip stock wasm and wasm with only Conv2DBackpropFilter
 *   --cpu-all          also time one batch of the seed net on stock cpu (~3 min)
 *   --profile          print the slowest kernels of one batch per run
 *   --peak-gflops N    one core's peak for the "% of peak" figures (default:
 *                      measured at the start: the best one-thread SGEMM of
 *                      oneDNN, XNNPACK and PyTorch here)
 *   --rounds N         interleaved rounds of the seed-net head to head (3):
 *                      native, wasm and PyTorch (Debian's python3-torch, one
 *                      thread, NCHW and channels-last) train, then predict;
 *                      each round first measures oneDNN's SGEMM again, for a
 *                      "% of round peak" that load drifting during the run
 *                      does not skew
 *   --skip-head-to-head, --skip-pytorch
 *
 * Data is synthetic (uniform pixels, random labels) and the same batch is fed
 * every step, so this measures the engine, not input handling. ms/batch is
 * the median of the timed batches (the machine may be shared: the load
 * average is printed), the mean is in the JSON too. Throughput is
 * counted as 2 FLOP per multiply-accumulate and 3× the forward MACs per
 * training sample (forward, input gradient, weight gradient).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { buildModel, planModel } from '../src/model-spec/index.js';
import { EngineUnavailableError } from '../src/engine/engine-unavailable.error.js';
import { describeEngine, type EngineInfo, type EngineName, selectEngine } from '../src/engine/select-engine.js';
import { nativeAddonBuilt } from '../src/engine/native-addon.js';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../src/engine/wasm-training-kernels.js';
import { BENCH_MODELS, type BenchModel } from './bench-models.js';
import { DEBIAN_PYTHON, pytorchUnavailable } from './pytorch-baseline.js';
import { seedHeadToHead } from './seed-head-to-head.js';
import { measureSgemmPeak, tfjsMatMulGflops } from './sgemm-peak.js';
import { usageOnRequest } from './cli.js';

const OPTIONS = {
  'batch-size': { type: 'string', default: '128' },
  warmup: { type: 'string', default: '2' },
  batches: { type: 'string', default: '20' },
  'max-seconds': { type: 'string', default: '20' },
  models: { type: 'string' },
  engines: { type: 'string' },
  'skip-baseline': { type: 'boolean', default: false },
  'cpu-all': { type: 'boolean', default: false },
  profile: { type: 'boolean', default: false },
  'peak-gflops': { type: 'string' },
  rounds: { type: 'string', default: '3' },
  'skip-head-to-head': { type: 'boolean', default: false },
  'skip-pytorch': { type: 'boolean', default: false },
} as const;

/**
 * Bad options end the process here with a plain message: once the wasm
 * backend is loaded, Emscripten rethrows uncaught errors from its own
 * handler and Node prints its whole minified source line with them.
 */
function fail(message: string): never {
  console.error(`bench:train: ${message}`);
  process.exit(2);
}

usageOnRequest();
const { values: args } = (() => {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
})();

function numberArg(name: keyof typeof args, min = 0): number {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value < min) fail(`--${name} must be a number ≥ ${min}, got ${args[name]}`);
  return value;
}

const batchSize = numberArg('batch-size', 1);
/** Set in main: given, or measured before anything else runs. */
let peakGflops = args['peak-gflops'] === undefined ? Number.NaN : numberArg('peak-gflops', Number.MIN_VALUE);
const models = pick(
  BENCH_MODELS.map((m) => m.name),
  args.models,
  '--models',
).map((name) => BENCH_MODELS.find((m) => m.name === name)!);
const engines = pick<EngineName>(['tensorflow', 'native', 'wasm', 'cpu'], args.engines, '--engines');

interface Result {
  model: string;
  engine: string;
  samplesPerSec: number;
  msPerBatch: number;
  gflops: number;
  meanMsPerBatch: number;
  peakFraction: number;
  batches: number;
  batchSize: number;
}

interface RunPlan {
  warmup: number;
  batches: number;
  note?: string;
}

const results: Result[] = [];

function pick<T extends string>(all: readonly T[], list: string | undefined, flag: string): T[] {
  if (!list) return [...all];
  const wanted = list.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !all.includes(w as T));
  if (unknown.length > 0) fail(`${flag}: unknown ${unknown.join(', ')} (choose from ${all.join(', ')})`);
  return wanted as T[];
}

function describeWithKernels(info: EngineInfo): string {
  return `${describeEngine(info)}${info.kernels ? `; ${info.name === 'native' ? 'native' : 'our'} kernels: ${info.kernels.join(', ') || 'none'}` : ''}`;
}

function syntheticBatch(inputShape: number[], classes: number): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const xs = tf.randomUniform([batchSize, ...inputShape], 0, 1, 'float32', 1);
    const labels = tf.randomUniform([batchSize], 0, classes, 'int32', 2);
    return [xs, tf.oneHot(labels, classes)];
  });
}

async function profileOneBatch(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor): Promise<void> {
  const start = performance.now();
  const info = await tf.profile(async () => {
    await model.trainOnBatch(xs, ys);
  });
  const wall = performance.now() - start;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const entry = byKernel.get(key) ?? { ms: 0, calls: 0 };
    entry.ms += Number(k.kernelTimeMs);
    entry.calls++;
    byKernel.set(key, entry);
  }
  const total = [...byKernel.values()].reduce((sum, e) => sum + e.ms, 0);
  console.log(`    profile: ${total.toFixed(1)} ms in kernels, ${wall.toFixed(1)} ms wall (profiling adds overhead)`);
  for (const [key, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    console.log(`    ${e.ms.toFixed(1).padStart(8)} ms ${String(Math.round((100 * e.ms) / total)).padStart(3)}%  ${e.calls}×  ${key}`);
  }
}

async function timeTraining(bench: BenchModel, engine: string, plan: RunPlan): Promise<void> {
  const modelPlan = planModel(bench.spec, { maxParams: Infinity, maxMacs: Infinity });
  const model = buildModel(bench.spec, { seed: 1 });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
  const [xs, ys] = syntheticBatch(modelPlan.inputShape, modelPlan.outputShape[0]);
  const label = `${bench.name.padEnd(11)} ${engine.padEnd(17)}`;
  try {
    for (let i = 0; i < plan.warmup; i++) await model.trainOnBatch(xs, ys);
    const budgetMs = numberArg('max-seconds') * 1000;
    const start = performance.now();
    const times: number[] = [];
    while (times.length < plan.batches && (times.length === 0 || performance.now() - start < budgetMs)) {
      const t0 = performance.now();
      await model.trainOnBatch(xs, ys);
      times.push(performance.now() - t0);
    }
    const batches = times.length;
    const msPerBatch = median(times);
    const meanMsPerBatch = times.reduce((sum, t) => sum + t, 0) / batches;
    const samplesPerSec = (batchSize * 1000) / msPerBatch;
    const gflops = (2 * modelPlan.macs * 3 * samplesPerSec) / 1e9;
    const result: Result = {
      model: bench.name,
      engine,
      samplesPerSec: round(samplesPerSec, 1),
      msPerBatch: round(msPerBatch, 1),
      gflops: round(gflops, 2),
      meanMsPerBatch: round(meanMsPerBatch, 1),
      peakFraction: round(gflops / peakGflops, 4),
      batches,
      batchSize,
    };
    results.push(result);
    console.log(
      `  ${label} ${fmt(samplesPerSec, 1).padStart(8)} samples/s ${fmt(msPerBatch, 1).padStart(9)} ms/batch` +
        ` ${fmt(gflops, 2).padStart(7)} GFLOP/s ${(100 * result.peakFraction).toFixed(2).padStart(6)}% of peak` +
        `  (${batches} batches${plan.note ? `; ${plan.note}` : ''})`,
    );
    if (args.profile) await profileOneBatch(model, xs, ys);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.log(`  ${label} cannot train: ${message.split('\n')[0]}`);
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

async function runEngine(name: EngineName): Promise<void> {
  let info: EngineInfo;
  try {
    info = await selectEngine(name);
  } catch (err) {
    if (!(err instanceof EngineUnavailableError)) throw err;
    console.log(`\n${name}: skipped, ${err.reason}`);
    return;
  }
  console.log(`\n${describeWithKernels(info)}`);
  if (name === 'wasm' || name === 'native') {
    console.log(`  ${name} sgemm 1024³ (tf.matMul, best of 5): ${fmt(tfjsMatMulGflops(1024), 1)} GFLOP/s (load ${loadAverage()})`);
  }
  const normal: RunPlan = { warmup: numberArg('warmup'), batches: numberArg('batches', 1) };
  for (const bench of models) {
    if (name === 'cpu' && !bench.cpuByDefault && !args['cpu-all']) {
      console.log(`  ${bench.name.padEnd(11)} cpu               skipped: stock cpu takes ~3 minutes a batch (--cpu-all runs one)`);
      continue;
    }
    const slowCpu = name === 'cpu' && !bench.cpuByDefault;
    await timeTraining(bench, name, slowCpu ? { warmup: 0, batches: 1, note: 'one cold batch' } : normal);
  }
  if (name === 'wasm' && !args['skip-baseline']) await runWasmBaselines();
}

/**
 * Same process, same engine, fewer of our kernels: stock wasm (which lacks
 * Conv2DBackpropFilter, so only the MLP trains) and wasm with just that one
 * kernel added, the minimum that trains a conv net.
 */
async function runWasmBaselines(): Promise<void> {
  const few: RunPlan = { warmup: 1, batches: 3, note: 'baseline' };
  try {
    unregisterWasmTrainingKernels();
    console.log('\nwasm baselines (stock kernels)');
    for (const bench of models) await timeTraining(bench, 'wasm-stock', few);
    registerWasmTrainingKernels(['Conv2DBackpropFilter']);
    for (const bench of models.filter((m) => m.name !== 'mlp')) {
      await timeTraining(bench, 'wasm-filter-only', few);
    }
  } finally {
    registerWasmTrainingKernels();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function fmt(value: number, digits: number): string {
  return value.toFixed(digits);
}

async function main(): Promise<void> {
  const noTorch = args['skip-pytorch'] ? 'skipped (--skip-pytorch)' : pytorchUnavailable();
  console.log(
    `bench:train  batch ${batchSize}, ${numberArg('warmup')} warm-up + up to ${numberArg('batches', 1)} timed batches` +
      ` (≤ ${numberArg('max-seconds')} s), node ${process.version}, ${cpuModel()}, load average ${loadAverage()}`,
  );
  console.log(`  PyTorch baseline: ${noTorch ?? `${DEBIAN_PYTHON} with python3-torch, one thread`}`);

  const peak = await measureSgemmPeak({ native: engines.includes('native') && nativeAddonBuilt(), pytorch: noTorch === null });
  console.log('\none-core SGEMM (float32, one thread, best of 5):');
  for (const f of peak.figures) console.log(`  ${f.library.padEnd(40)} n=${String(f.n).padEnd(5)} ${f.gflops.toFixed(1).padStart(6)} GFLOP/s  (load ${f.load})`);
  if (Number.isNaN(peakGflops)) {
    peakGflops = peak.gflops;
    console.log(`  peak: ${peakGflops.toFixed(1)} GFLOP/s (${peak.source}); "% of peak" below divides by it`);
  } else {
    console.log(`  peak given with --peak-gflops: ${peakGflops} GFLOP/s (measured best: ${peak.gflops.toFixed(1)})`);
  }

  console.log('');
  for (const bench of models) {
    const plan = planModel(bench.spec, { maxParams: Infinity, maxMacs: Infinity });
    console.log(
      `  ${bench.name}: ${plan.totalParams.toLocaleString('en-US')} params, ${(plan.macs / 1e6).toFixed(2)} M MACs forward,` +
        ` ${((6 * plan.macs) / 1e6).toFixed(1)} MFLOP per training sample`,
    );
  }
  for (const name of engines) await runEngine(name);

  const headToHead: object[] = [];
  const headToHeadEngines = (['native', 'wasm'] as const).filter((e) => engines.includes(e) && (e !== 'native' || nativeAddonBuilt()));
  if (!args['skip-head-to-head'] && models.some((m) => m.name === 'seed-mnist') && headToHeadEngines.length > 0) {
    const figures = await seedHeadToHead({
      engines: [...headToHeadEngines],
      pytorch: noTorch === null,
      batchSize,
      warmup: numberArg('warmup'),
      batches: numberArg('batches', 1),
      rounds: numberArg('rounds', 1),
      maxSeconds: numberArg('max-seconds'),
      peakGflops,
      roundPeak: headToHeadEngines.includes('native')
        ? async () => {
            await selectEngine('native');
            return tfjsMatMulGflops(1024);
          }
        : undefined,
    });
    headToHead.push(
      ...figures.map((f) => ({
        model: 'seed-mnist',
        headToHead: f.contender,
        trainSamplesPerSec: round(f.trainSamplesPerSec, 1),
        trainMsPerBatch: round(f.trainMsPerBatch, 1),
        trainGflops: round(f.trainGflops, 2),
        peakFraction: round(f.peakFraction, 4),
        roundPeakFraction: f.roundPeakFraction === null ? null : round(f.roundPeakFraction, 4),
        peakGflops: round(peakGflops, 1),
        predictSamplesPerSec: round(f.predictSamplesPerSec, 1),
        predictMsPerBatch: round(f.predictMsPerBatch, 1),
        batches: f.batches,
        batchSize,
      })),
    );
  }

  console.log(`\nload average at the end: ${loadAverage()}`);
  console.log('');
  for (const r of results) {
    const { model, engine, samplesPerSec, msPerBatch, gflops, ...rest } = r;
    console.log(JSON.stringify({ model, engine, samplesPerSec, msPerBatch, gflops, ...rest }));
  }
  for (const f of headToHead) console.log(JSON.stringify(f));
}

/** The CPU's model name (Linux), for the header: figures depend on it. */
function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return `${line?.split(':')[1]?.trim() ?? 'unknown CPU'} × ${availableParallelism()}`;
  } catch {
    return `${availableParallelism()} CPUs`;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
