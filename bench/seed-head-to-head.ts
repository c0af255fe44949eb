import * as tf from '@tensorflow/tfjs';
import { type EngineName, selectEngine } from '../src/engine/select-engine.js';
import { buildModel, planModel, SEED_MNIST_MODEL } from '../src/model-spec/index.js';
import { loadAverage } from './machine.js';
import { type PyTorchLayout, runPyTorchSeed } from './pytorch-baseline.js';

/**
 * The seed net on each engine and on PyTorch, one thread each, in
 * interleaved rounds (native, wasm, PyTorch NCHW, PyTorch channels-last,
 * then again), so that the load of a shared machine falls on all of them
 * alike. Figures are medians over all timed batches; ratios are ratios of
 * medians, with their spread over the rounds.
 */
export interface HeadToHeadOptions {
  engines: ('native' | 'wasm')[];
  pytorch: boolean;
  batchSize: number;
  warmup: number;
  batches: number;
  rounds: number;
  maxSeconds: number;
  peakGflops: number;
  /**
   * The one-core SGEMM GFLOP/s measured again at the start of each round:
   * on a shared machine the load drifts, and a fraction of a peak measured
   * minutes earlier under other load says little.
   */
  roundPeak?: () => Promise<number>;
}

type Contender = 'native' | 'wasm' | `pytorch-${PyTorchLayout}`;

interface Timings {
  train: number[];
  predict: number[];
  /** Per round: the median ms per batch of that round. */
  trainRounds: number[];
  predictRounds: number[];
}

export interface HeadToHeadFigure {
  contender: Contender;
  trainSamplesPerSec: number;
  trainMsPerBatch: number;
  trainGflops: number;
  peakFraction: number;
  /** Median over rounds of the round's train GFLOP/s over the peak measured in that round (roundPeak only). */
  roundPeakFraction: number | null;
  predictSamplesPerSec: number;
  predictMsPerBatch: number;
  batches: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function timeTfjs(engine: EngineName, options: HeadToHeadOptions): Promise<{ train: number[]; predict: number[] }> {
  await selectEngine(engine);
  const model = buildModel(SEED_MNIST_MODEL, { seed: 1 });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
  const [xs, ys] = tf.tidy(() => [tf.randomUniform([options.batchSize, 28, 28, 1], 0, 1, 'float32', 1), tf.oneHot(tf.randomUniform([options.batchSize], 0, 10, 'int32', 2), 10)]);
  const timed = async (step: () => Promise<void>): Promise<number[]> => {
    for (let i = 0; i < options.warmup; i++) await step();
    const times: number[] = [];
    const start = performance.now();
    while (times.length < options.batches && (times.length === 0 || performance.now() - start < options.maxSeconds * 1000)) {
      const t0 = performance.now();
      await step();
      times.push(performance.now() - t0);
    }
    return times;
  };
  try {
    const train = await timed(async () => {
      await model.trainOnBatch(xs, ys);
    });
    const predict = await timed(async () => {
      const y = model.predict(xs) as tf.Tensor;
      await y.data();
      y.dispose();
    });
    return { train, predict };
  } finally {
    tf.dispose([xs, ys]);
    model.optimizer.dispose();
    model.dispose();
  }
}

export async function seedHeadToHead(options: HeadToHeadOptions): Promise<HeadToHeadFigure[]> {
  const contenders: Contender[] = [...options.engines, ...(options.pytorch ? (['pytorch-nchw', 'pytorch-channels_last'] as const) : [])];
  const timings = new Map<Contender, Timings>(contenders.map((c) => [c, { train: [], predict: [], trainRounds: [], predictRounds: [] }]));
  const macs = planModel(SEED_MNIST_MODEL, { maxParams: Number.POSITIVE_INFINITY, maxMacs: Number.POSITIVE_INFINITY }).macs;
  console.log(
    `\nseed net head to head: batch ${options.batchSize}, one thread each, ${options.rounds} interleaved rounds of ${options.warmup} warm-up + ${options.batches} timed batches (train, then predict)`,
  );
  const roundPeaks: number[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const parts: string[] = [];
    if (options.roundPeak) {
      roundPeaks.push(await options.roundPeak());
      parts.push(`SGEMM peak ${roundPeaks.at(-1)!.toFixed(1)} GFLOP/s (load ${loadAverage()})`);
    }
    for (const contender of contenders) {
      const load = loadAverage();
      const run = contender.startsWith('pytorch-')
        ? (() => {
            const r = runPyTorchSeed({
              layout: contender.slice('pytorch-'.length) as PyTorchLayout,
              batchSize: options.batchSize,
              warmup: options.warmup,
              batches: options.batches,
              maxSeconds: options.maxSeconds,
            });
            return { train: r.trainMs, predict: r.predictMs };
          })()
        : await timeTfjs(contender as EngineName, options);
      const t = timings.get(contender)!;
      t.train.push(...run.train);
      t.predict.push(...run.predict);
      t.trainRounds.push(median(run.train));
      t.predictRounds.push(median(run.predict));
      parts.push(`${contender} ${median(run.train).toFixed(1)}/${median(run.predict).toFixed(1)} ms (load ${load})`);
    }
    console.log(`  round ${round} (train/predict ms per batch): ${parts.join('; ')}`);
  }

  const figures = contenders.map((contender): HeadToHeadFigure => {
    const t = timings.get(contender)!;
    const trainMsPerBatch = median(t.train);
    const predictMsPerBatch = median(t.predict);
    const trainSamplesPerSec = (options.batchSize * 1000) / trainMsPerBatch;
    const trainGflops = (2 * 3 * macs * trainSamplesPerSec) / 1e9;
    return {
      contender,
      trainSamplesPerSec,
      trainMsPerBatch,
      trainGflops,
      peakFraction: trainGflops / options.peakGflops,
      roundPeakFraction: roundPeaks.length ? median(t.trainRounds.map((ms, i) => (2 * 3 * macs * ((options.batchSize * 1000) / ms)) / 1e9 / roundPeaks[i])) : null,
      predictSamplesPerSec: (options.batchSize * 1000) / predictMsPerBatch,
      predictMsPerBatch,
      batches: t.train.length,
    };
  });

  console.log(
    `\n  ${'engine, 1 thread'.padEnd(24)} ${'train samples/s'.padStart(16)} ${'GFLOP/s'.padStart(8)} ${'% of peak'.padStart(10)} ${'% of round peak'.padStart(16)} ${'predict samples/s'.padStart(18)}`,
  );
  for (const f of figures) {
    console.log(
      `  ${f.contender.padEnd(24)} ${f.trainSamplesPerSec.toFixed(0).padStart(16)} ${f.trainGflops.toFixed(1).padStart(8)} ${(100 * f.peakFraction).toFixed(1).padStart(9)}% ${(f.roundPeakFraction === null ? '-' : `${(100 * f.roundPeakFraction).toFixed(1)}%`).padStart(16)} ${f.predictSamplesPerSec.toFixed(0).padStart(18)}`,
    );
  }

  const ratio = (a: Contender, b: Contender, what: 'train' | 'predict'): string | null => {
    const ta = timings.get(a);
    const tb = timings.get(b);
    if (!ta || !tb) return null;
    // Throughput ratio a ÷ b = b's ms ÷ a's ms.
    const overall = median(tb[what]) / median(ta[what]);
    const rounds = ta[`${what}Rounds`].map((ms, i) => tb[`${what}Rounds`][i] / ms);
    return `${overall.toFixed(2)}x (rounds ${Math.min(...rounds).toFixed(2)}–${Math.max(...rounds).toFixed(2)})`;
  };
  console.log('\n  ratios of medians (throughput):');
  const lines: [string, string | null][] = [
    ['train   native ÷ PyTorch NCHW', ratio('native', 'pytorch-nchw', 'train')],
    ['train   native ÷ PyTorch channels-last', ratio('native', 'pytorch-channels_last', 'train')],
    ['train   native ÷ wasm', ratio('native', 'wasm', 'train')],
    ['train   PyTorch NCHW ÷ wasm', ratio('pytorch-nchw', 'wasm', 'train')],
    ['predict native ÷ wasm', ratio('native', 'wasm', 'predict')],
    ['predict native ÷ PyTorch NCHW', ratio('native', 'pytorch-nchw', 'predict')],
    ['predict native ÷ PyTorch channels-last', ratio('native', 'pytorch-channels_last', 'predict')],
  ];
  for (const [label, value] of lines) if (value) console.log(`    ${label.padEnd(40)} ${value}`);

  const native = figures.find((f) => f.contender === 'native');
  if (native) {
    const torch = figures.filter((f) => f.contender.startsWith('pytorch-'));
    const fastestTorch = torch.length ? torch.reduce((a, b) => (b.trainSamplesPerSec > a.trainSamplesPerSec ? b : a)) : null;
    const wasm = figures.find((f) => f.contender === 'wasm');
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log('\n  targets (issue 14):');
    if (fastestTorch) {
      const r = native.trainSamplesPerSec / fastestTorch.trainSamplesPerSec;
      console.log(`    train ≥ 0.9x PyTorch (its faster layout, ${fastestTorch.contender}): ${r.toFixed(2)}x, ${verdict(r >= 0.9)}`);
    } else {
      console.log('    train ≥ 0.9x PyTorch: not measured (no PyTorch here)');
    }
    console.log(`    train ≥ 55% of the measured peak: ${(100 * native.peakFraction).toFixed(1)}% of the peak measured at the start, ${verdict(native.peakFraction >= 0.55)}`);
    if (native.roundPeakFraction !== null) {
      // A round's training cannot beat that round's peak: if it did, the SGEMM taken then was
      // slowed by something else (seen here after the first round), and that figure says nothing.
      const beaten = native.roundPeakFraction > 1;
      console.log(
        `      and ${(100 * native.roundPeakFraction).toFixed(1)}% of the peak measured in the same round (median over rounds), ${
          beaten ? 'not meaningful: training beat the SGEMM measured in its round, so those SGEMM readings were low' : verdict(native.roundPeakFraction >= 0.55)
        }`,
      );
    }
    if (wasm) {
      const r = native.predictSamplesPerSec / wasm.predictSamplesPerSec;
      console.log(`    predict at batch ${options.batchSize} ≥ 2x wasm: ${r.toFixed(2)}x, ${verdict(r >= 2)}`);
    }
  }
  return figures;
}
