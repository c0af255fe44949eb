/**
 * What a learning-rate schedule and augmentation buy on the built-in digits:
 * `npm run bench:accuracy [-- options]`
 *
 * Trains the lesson's network (SEED_MNIST_MODEL) twice as jobs of the
 * service (the API in this process, one worker process), on all 10,000
 * built-in digits split by the job seed into 7,001 training, 999 validation
 * and the same 2,000 held-out test digits for both runs:
 *
 *   plain     the lesson's settings: Adam 0.001, batch 64, 8 epochs;
 *   improved  the same network and data with a cosine schedule (warm-up),
 *             augmentation (shift, rotation, zoom) and more epochs.
 *
 * Prints each run's test accuracy, wall time (submission to the job's
 * finishedAt), its epochs (rate, validation accuracy, samples/s), what
 * augmenting a batch costs next to training on it, the load average and the
 * time taken. Goal: the improved run at ≥ 98.8% test accuracy.
 *
 *   --epochs N          epochs of the improved run (15)
 *   --learning-rate X   peak rate of the improved run (0.002)
 *   --warmup-epochs N   (1)
 *   --shift X --rotation X --zoom X   augmentation (0.1, 10, 0.1)
 *   --seed N            the job seed: split, initial weights, order, augmentation (42)
 *   --plain yes|no      also train the plain run (yes)
 */
import { SEED_MNIST_MODEL, type TrainingSpec } from '../src/model-spec/index.js';
import { loadMnist } from '../src/data/mnist.dataset.js';
import { normalizationFor } from '../src/data/normalization.js';
import { computeStats } from '../src/data/parsers/index.js';
import { builtinDataset } from '../src/data/datasets.js';
import { gatherExampleArrays } from '../src/worker/examples.js';
import { epochBatchArrays, type BatchOptions } from '../src/worker/training-batches.js';
import { startBenchService, type BenchService, type JobView } from './bench-service.js';
import { benchCli } from './cli.js';
import { loadAverage } from './machine.js';

const GOAL = 0.988;

const { args, fail, number } = benchCli('bench:accuracy', {
  epochs: '15',
  'learning-rate': '0.002',
  'warmup-epochs': '1',
  shift: '0.1',
  rotation: '10',
  zoom: '0.1',
  seed: '42',
  plain: 'yes',
});
if (args.plain !== 'yes' && args.plain !== 'no') fail(`--plain must be yes or no, got ${args.plain}`);

const lesson: TrainingSpec = {
  optimizer: 'adam',
  learningRate: 0.001,
  epochs: 8,
  batchSize: 64,
  validationSplit: 0.1,
  testSplit: 0.2,
  seed: number('seed', { min: 0, integer: true }),
};
const augmentation = { shift: number('shift', { min: 0 }), rotation: number('rotation', { min: 0 }), zoom: number('zoom', { min: 0 }), flipHorizontal: false };
const improved: TrainingSpec = {
  ...lesson,
  learningRate: number('learning-rate', { min: 0 }),
  epochs: number('epochs', { integer: true }),
  learningRateSchedule: { type: 'cosine', warmupEpochs: number('warmup-epochs', { min: 0, integer: true }) },
  augmentation,
};

interface Run {
  label: string;
  job: JobView & { spec?: { training: unknown } };
  wallSeconds: number;
  epochs: { epoch: number; learningRate: number | null; valAccuracy: number | null; samplesPerSec: number }[];
}

async function train(service: BenchService, label: string, training: TrainingSpec): Promise<Run> {
  const { id } = await service.submit({ name: `bench-accuracy-${label}`, model: SEED_MNIST_MODEL, training, dataset: { id: 'mnist' } });
  const { job } = await service.waitFor(id, 500);
  if (job.status !== 'succeeded') throw new Error(`the ${label} job ${job.status}: ${JSON.stringify(job.error)}`);
  const epochs = (await service.metrics(id)) as unknown as Run['epochs'];
  const wallSeconds = (Date.parse(job.finishedAt!) - Date.parse(job.createdAt)) / 1000;
  return { label, job, wallSeconds, epochs };
}

/** Milliseconds to cut one batch of `batchSize` digits, with and without augmentation (best of 3 passes over 100 batches). */
async function batchCost(batchSize: number): Promise<{ plain: number; augmented: number }> {
  const data = await loadMnist();
  const info = builtinDataset('mnist')!;
  const normalization = normalizationFor('scale', computeStats(data.x, data.y, info.inputShape, info.numClasses), 1);
  const set = gatherExampleArrays(
    data,
    Uint32Array.from({ length: batchSize * 100 }, (_, i) => i),
    info.inputShape,
    normalization,
  );
  const time = (options: BatchOptions) => {
    let best = Number.POSITIVE_INFINITY;
    for (let pass = 0; pass < 3; pass++) {
      const started = performance.now();
      let batches = 0;
      for (const _ of epochBatchArrays(set, options, pass + 1)) batches++;
      best = Math.min(best, (performance.now() - started) / batches);
    }
    return best;
  };
  const image = { height: 28, width: 28, channels: 1 };
  return { plain: time({ batchSize, seed: 1 }), augmented: time({ batchSize, seed: 1, augmentation: { settings: augmentation, image } }) };
}

function report(run: Run): void {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '   -  ' : `${(x * 100).toFixed(2)}%`);
  console.log(`\n${run.label}: test accuracy ${pct(run.job.test?.accuracy)} on ${run.job.split?.test} digits, wall time ${run.wallSeconds.toFixed(0)} s`);
  console.log(`  split ${JSON.stringify(run.job.split)}, engine ${run.job.engine?.name}`);
  console.log(`  ${'epoch'.padStart(5)}${'rate'.padStart(12)}${'val acc'.padStart(10)}${'samples/s'.padStart(11)}`);
  for (const e of run.epochs) {
    console.log(
      `  ${String(e.epoch).padStart(5)}${(e.learningRate?.toExponential(3) ?? '-').padStart(12)}${pct(e.valAccuracy).padStart(10)}${e.samplesPerSec.toFixed(0).padStart(11)}`,
    );
  }
}

const started = Date.now();
console.log(`bench:accuracy — node ${process.version}; load average ${loadAverage()}`);
console.log(`plain:    ${JSON.stringify(lesson)}`);
console.log(`improved: ${JSON.stringify(improved)}`);
const service = await startBenchService();
let exitCode = 0;
try {
  await service.startWorker();
  const runs: Run[] = [];
  if (args.plain === 'yes') {
    runs.push(await train(service, 'plain', lesson));
    report(runs.at(-1)!);
    console.log(`  load average ${loadAverage()}`);
  }
  runs.push(await train(service, 'improved', improved));
  const best = runs.at(-1)!;
  report(best);
  console.log(`  load average ${loadAverage()}`);

  const cost = await batchCost(lesson.batchSize!);
  const sps = best.epochs.map((e) => e.samplesPerSec).sort((a, b) => a - b);
  const stepMs = (lesson.batchSize! / sps[Math.floor(sps.length / 2)]) * 1000;
  const extra = cost.augmented - cost.plain;
  console.log(
    `\naugmentation: ${extra.toFixed(2)} ms more per batch of ${lesson.batchSize} (${cost.augmented.toFixed(2)} ms augmented, ${cost.plain.toFixed(2)} ms copied), ` +
      `${((extra / stepMs) * 100).toFixed(1)}% of a training step of ${stepMs.toFixed(0)} ms (from the improved run's median samples/s, validation included)`,
  );
  console.log('\nsummary');
  for (const run of runs)
    console.log(
      `  ${run.label.padEnd(9)} test accuracy ${((run.job.test?.accuracy ?? 0) * 100).toFixed(2)}%   wall time ${run.wallSeconds.toFixed(0)} s   ${run.epochs.length} epochs`,
    );
  const accuracy = best.job.test?.accuracy ?? 0;
  console.log(`goal ≥ ${(GOAL * 100).toFixed(1)}% test accuracy: ${accuracy >= GOAL ? 'reached' : 'NOT reached'} (${(accuracy * 100).toFixed(2)}%)`);
  if (accuracy < GOAL) exitCode = 1;
} finally {
  await service.close();
}
console.log(`load average ${loadAverage()}; took ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(exitCode);
