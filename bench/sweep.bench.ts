/**
 * What a sweep buys over one run with the default settings, on the built-in
 * digits: `npm run bench:sweep [-- options]`
 *
 * The lesson's network (SEED_MNIST_MODEL) as jobs of the service (the API
 * in this process, worker processes), on the first --limit built-in digits
 * (all 10,000 by default), split by the job seed into training, validation
 * (10%) and test (20%) digits: 7,001 / 999 / 2,000, the same split for
 * every run:
 *
 *   default  one job with the lesson's settings: Adam, learning rate 0.001,
 *            batch 64, --epochs epochs;
 *   sweep    POST /v1/sweeps from that job as its base, searching the
 *            learning rate (log-uniform 0.0003 to 0.01) and the batch size
 *            (32, 64, 128) by --algorithm, --max-trials trials judged by
 *            validation accuracy, weak ones stopped early (--early-stopping).
 *
 * Prints every trial (parameters, epochs, validation and test accuracy, how
 * it ended), the best trial (chosen by validation accuracy, as the sweep
 * chooses it) against the default run on the test digits neither saw, the
 * wall times, the load average and the machine's CPU use.
 *
 *   --limit N            built-in digits used (10000)
 *   --epochs N           epochs of each run (8, the lesson's)
 *   --algorithm A        tpe, random or grid (tpe; grid searches the batch sizes and 0.0003, 0.001, 0.003, 0.01)
 *   --max-trials N       (8)
 *   --parallelism N      trials at once (1)
 *   --workers N          worker processes (1)
 *   --early-stopping E   asha, median or none (asha: rungs at 1, 2, ... epochs, halving)
 *   --seed N             the sweep's seed (1)
 */
import { SEED_MNIST_MODEL, type TrainingSpec } from '../src/model-spec/index.js';
import { startBenchService, type BenchService, type JobView } from './bench-service.js';
import { benchCli } from './cli.js';
import { cpuBetween, describeCpu, loadAverage, sampleCpu } from './machine.js';

const { args, fail, number } = benchCli('bench:sweep', {
  limit: '10000',
  epochs: '8',
  algorithm: 'tpe',
  'max-trials': '8',
  parallelism: '1',
  workers: '1',
  'early-stopping': 'asha',
  seed: '1',
});
const algorithm = args.algorithm;
if (!['tpe', 'random', 'grid'].includes(algorithm)) fail(`--algorithm must be tpe, random or grid, got ${algorithm}`);
const early = args['early-stopping'];
if (!['asha', 'median', 'none'].includes(early)) fail(`--early-stopping must be asha, median or none, got ${early}`);
const limit = number('limit', { min: 100, integer: true });
const workers = number('workers', { integer: true });

const lesson: TrainingSpec = {
  optimizer: 'adam',
  learningRate: 0.001,
  epochs: number('epochs', { integer: true }),
  batchSize: 64,
  validationSplit: 0.1,
  testSplit: 0.2,
  seed: 42,
};
const base = { model: SEED_MNIST_MODEL, training: lesson, dataset: { id: 'mnist', limit } };
const space =
  algorithm === 'grid'
    ? { 'training.learningRate': { values: [0.0003, 0.001, 0.003, 0.01] }, 'training.batchSize': { values: [32, 64, 128] } }
    : { 'training.learningRate': { logUniform: [0.0003, 0.01] }, 'training.batchSize': { values: [32, 64, 128] } };
const sweepBody = {
  name: 'bench-sweep',
  base,
  space,
  algorithm,
  objective: { metric: 'valAccuracy', goal: 'maximize' },
  maxTrials: number('max-trials', { integer: true }),
  parallelism: number('parallelism', { integer: true }),
  seed: number('seed', { min: 0, integer: true }),
  ...(early === 'asha'
    ? { earlyStopping: { type: 'asha', minEpochs: 1, reductionFactor: 2 } }
    : early === 'median'
      ? { earlyStopping: { type: 'median', minEpochs: 1, minTrials: 2 } }
      : {}),
};

interface Trial {
  index: number;
  jobId: string;
  params: Record<string, number>;
  status: string;
  objective: number | null;
  epochs: number;
  stopReason: string | null;
}
interface SweepView {
  id: string;
  status: string;
  trials: Trial[];
  best: { trial: number; jobId: string; objective: number } | null;
  createdAt: string;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '   -   ' : `${(100 * x).toFixed(2)}%`.padStart(7));
const secs = (from: string, to: string | null) => (to ? (Date.parse(to) - Date.parse(from)) / 1000 : Number.NaN);

async function waitForSweep(service: BenchService, id: string): Promise<SweepView> {
  for (;;) {
    const sweep = await service.request<SweepView>('GET', `/v1/sweeps/${id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(sweep.status) && sweep.trials.every((t) => ['succeeded', 'failed', 'cancelled'].includes(t.status))) return sweep;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadAverage();
  console.log(
    `bench:sweep  the lesson's network, first ${limit} built-in digits (validation 0.1, test 0.2, split seed 42), ${lesson.epochs} epochs per run; ` +
      `sweep: ${algorithm}, ${sweepBody.maxTrials} trials, ${sweepBody.parallelism} at a time, early stopping ${early}, seed ${sweepBody.seed}; ` +
      `${workers} worker process(es); node ${process.version}; load average ${loadBefore}`,
  );
  const service = await startBenchService({ WORKER_CONCURRENCY: 1, RECONCILE_INTERVAL_MS: 2000, QUOTA_RUNNING_JOBS: Math.max(2, workers) });
  try {
    for (let i = 0; i < workers; i++) await service.startWorker();
    const roots = [process.pid, ...service.workers.map((w) => w.pid)];

    let cpu0 = sampleCpu(roots);
    const { id } = await service.submit({ name: 'bench-sweep-default', ...base });
    const { job: plain } = await service.waitFor(id, 500);
    if (plain.status !== 'succeeded') throw new Error(`the default run ${plain.status}: ${JSON.stringify(plain.error)}`);
    const plainMetrics = await service.metrics(id);
    const plainVal = (plainMetrics.at(-1) as unknown as { valAccuracy: number | null }).valAccuracy;
    const plainSeconds = secs(plain.createdAt, plain.finishedAt);
    console.log(
      `\ndefault run (Adam 0.001, batch 64): engine ${plain.engine?.name}; split ${plain.split?.train} train / ${plain.split?.validation} validation / ${plain.split?.test} test; ` +
        `validation ${pct(plainVal)}, test ${pct(plain.test?.accuracy)}; ${plainSeconds.toFixed(1)} s\n  ${describeCpu(cpuBetween(cpu0, sampleCpu(roots)))}`,
    );

    cpu0 = sampleCpu(roots);
    const created = await service.request<SweepView>('POST', '/v1/sweeps', sweepBody);
    const sweep = await waitForSweep(service, created.id);
    const sweepSeconds = secs(sweep.createdAt, sweep.finishedAt ?? new Date().toISOString());
    const cpuSweep = cpuBetween(cpu0, sampleCpu(roots));
    console.log(`\nsweep ${sweep.id}: ${sweep.status}${sweep.error ? ` (${sweep.error.code}: ${sweep.error.message})` : ''}; ${sweepSeconds.toFixed(1)} s`);
    console.log(
      `  ${'trial'.padEnd(6)}${'learning rate'.padStart(14)}${'batch'.padStart(7)}${'epochs'.padStart(8)}${'validation'.padStart(12)}${'test'.padStart(9)}${'time'.padStart(9)}  ended`,
    );
    const tests = new Map<string, JobView>();
    let epochsTrained = 0;
    for (const trial of sweep.trials) {
      const job = await service.job(trial.jobId);
      tests.set(trial.jobId, job);
      epochsTrained += trial.epochs;
      const ended = trial.stopReason ? trial.stopReason.replace(/:.*/, '') : trial.status;
      console.log(
        `  ${String(trial.index).padEnd(6)}${trial.params['training.learningRate'].toPrecision(3).padStart(14)}${String(trial.params['training.batchSize']).padStart(7)}` +
          `${String(trial.epochs).padStart(8)}${pct(trial.objective).padStart(12)}${pct(job.test?.accuracy).padStart(9)}${`${secs(job.startedAt ?? job.createdAt, job.finishedAt).toFixed(1)} s`.padStart(9)}  ${ended}`,
      );
    }
    console.log(`  ${epochsTrained} epochs trained in all, against ${sweep.trials.length * lesson.epochs!} without early stopping\n  ${describeCpu(cpuSweep)}`);

    if (!sweep.best) throw new Error('the sweep has no best trial');
    const best = sweep.trials[sweep.best.trial];
    const bestTest = tests.get(best.jobId)?.test?.accuracy ?? null;
    const plainTest = plain.test?.accuracy ?? null;
    const gain = bestTest !== null && plainTest !== null ? bestTest - plainTest : null;
    console.log(
      `\nbest trial (by validation accuracy): #${best.index}, learning rate ${best.params['training.learningRate']}, batch ${best.params['training.batchSize']}: ` +
        `validation ${pct(best.objective)}, test ${pct(bestTest)}\n` +
        `default run:                                validation ${pct(plainVal)}, test ${pct(plainTest)}\n` +
        `on the ${plain.split?.test} test digits the best trial is ${gain === null ? 'not comparable' : `${(100 * gain).toFixed(2)} points ${gain > 0 ? 'better' : gain < 0 ? 'worse' : 'the same'}`}` +
        ` (${Math.round((gain ?? 0) * (plain.split?.test ?? 0))} digits)` +
        `\ntime: default run ${plainSeconds.toFixed(1)} s, sweep ${sweepSeconds.toFixed(1)} s, whole bench ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `load average before ${loadBefore}, after ${loadAverage()}`,
    );
  } finally {
    await service.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench:sweep failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
