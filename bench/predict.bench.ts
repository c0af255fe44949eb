/**
 * Predict throughput and latency of the API as deployed: `npm run bench:predict [-- options]`
 *
 * Everything is started here, in this order:
 *   1. the bench database (created and migrated), a tenant and an API key of
 *      its own, and two untrained models, stored as the trainer stores them
 *      (artifact under `modelArtifactKey(id)`, a job row moved to running,
 *      then `completeJobWithModel` with the same `preprocessing` object):
 *        seed  the lesson's MNIST net (SEED_MNIST_MODEL, 3.3 M params)
 *        mlp   flatten → dense 128 relu → dense 10 softmax (102 k params)
 *   2. the baseline: `model.predict` at batch 64 in this process, one
 *      thread, on the engine the server resolves (ENGINE, default auto),
 *      same weights, timed after a warm-up;
 *   3. the API (`src/api/server.ts`, as `npm run api`) in a separate process
 *      with its own queue, artifact directory and port, LOG_LEVEL=warn and a
 *      predict rate limit too high to matter; PREDICT_* and COMPUTE_* (and
 *      every other setting) pass through from this environment.
 *   4. for each model × clients: an untimed warm-up, then autocannon (in
 *      this process) POSTs one real MNIST digit per request for --duration
 *      seconds, cycling through 64 different digits; meanwhile a worker
 *      thread of this process GETs /healthz and GET /v1/jobs/{id} in turn,
 *      one every 10 ms (one keep-alive connection), and records each
 *      answer's latency. /v1/admin/serving (the
 *      batching counters, with the bench's own ADMIN_TOKEN) is
 *      read before and after the timed run: mean batch = Δinstances / Δbatches.
 *
 * Each row also prints the cores used meanwhile by the API process, by this
 * process (autocannon + probe), by PostgreSQL + Redis (each request looks up
 * its key and model and counts its rate limit) and by everything else: the
 * machine may be shared, and then the figures are low.
 *
 * req/s counts 2xx answers only; p50/p99 are over 2xx answers (ms, from
 * autocannon's per-response times). Any non-2xx answer or connection error is
 * printed loudly with its status codes. ratio = req/s ÷ bare samples/s, the
 * bare figure being the mean of one measurement before the API starts and
 * one after the load (API idle), both printed: the machine may be shared,
 * and the two show how much its speed drifted during the run.
 *
 *   --duration S   timed seconds per row (10)
 *   --warmup S     untimed seconds before each row (2)
 *   --models a,b   seed, mlp (both)
 *   --clients a,b  concurrent connections (1,16,64)
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../src/config/config.js';
import { MNIST } from '../src/data/datasets.js';
import { loadMnist } from '../src/data/mnist.dataset.js';
import { normalizationFor } from '../src/data/normalization.js';
import { computeStats } from '../src/data/parsers/index.js';
import { buildModel, finalActivation, normalizeTrainingSpec, planModel, SEED_MNIST_MODEL, type ModelSpec, type TrainingSpec } from '../src/model-spec/index.js';
import { createKey, createTenant } from '../src/storage/api-keys.repository.js';
import { createArtifactStore } from '../src/storage/artifact-store.js';
import { JOB_DOCUMENT_VERSION } from '../src/queue/job-document.js';
import * as jobsRepo from '../src/storage/jobs.repository.js';
import { modelArtifactKey, saveModelArtifact, type Preprocessing } from '../src/storage/model-artifacts.js';
import { completeJobWithModel } from '../src/storage/models.repository.js';
import { createDb, type Db } from '../src/storage/prisma.js';
import { selectEngine, type EngineInfo } from '../src/engine/select-engine.js';
import { BENCH_DATABASE_URL, prepareDatabase, spawnTsx } from './bench-service.js';
import { benchCli } from './cli.js';
import { cpuBetween, loadAverage, sampleCpu } from './machine.js';

const BARE_BATCH = 64;
const BARE_SECONDS = 3;
const HEALTHZ_EVERY_MS = 20;
const DISTINCT_BODIES = 64;
const TARGETS = ['seed net at 64 clients ≥ 1.0× bare, p99 ≤ 150 ms', 'mlp ≥ 3,000 req/s at 64 clients', '/healthz p99 ≤ 10 ms under every load'];

const { args, fail, number } = benchCli('bench:predict', {
  duration: '10',
  warmup: '2',
  models: 'seed,mlp',
  clients: '1,16,64',
});

const duration = number('duration', { min: 1 });
const warmup = number('warmup', { min: 0 });

/** The MLP of this bench: one hidden layer, so that the service's own cost shows. */
const MLP_MODEL: ModelSpec = {
  input: { shape: [28, 28, 1] },
  layers: [{ type: 'flatten' }, { type: 'dense', units: 128, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }],
};
const MODELS = { seed: SEED_MNIST_MODEL, mlp: MLP_MODEL } as const;
type ModelName = keyof typeof MODELS;

const modelNames = args.models!.split(',').map((s) => s.trim()) as ModelName[];
for (const m of modelNames) if (!(m in MODELS)) fail(`--models: unknown ${m} (choose from ${Object.keys(MODELS).join(', ')})`);
const clientCounts = args.clients!.split(',').map((s) => Number(s.trim()));
for (const c of clientCounts) if (!Number.isInteger(c) || c < 1) fail(`--clients must be positive integers, got ${args.clients}`);

// ---------------------------------------------------------------- models

interface StoredModel {
  name: ModelName;
  id: string;
  jobId: string;
  model: tf.LayersModel;
  params: number;
}

/**
 * Stores `model` untrained, as the trainer would have after training it on
 * the README's job (first 2,000 MNIST digits): artifact first, then a job
 * row moved to running and completed with the model row in one transaction.
 */
async function storeModel(db: Db, artifactDir: string, tenantId: string, queueName: string, name: ModelName, engine: EngineInfo): Promise<StoredModel> {
  const spec = MODELS[name];
  const training: TrainingSpec = { optimizer: 'adam', learningRate: 0.001, epochs: 1, batchSize: 64, validationSplit: 0.1, seed: 42 };
  const dataset = { id: MNIST.id, limit: 2000 };
  const plan = planModel(spec);
  const normalized = normalizeTrainingSpec(training, spec);
  const job = await jobsRepo.createJob(db, {
    tenantId,
    name: `predict-bench-${name}`,
    spec: { version: JOB_DOCUMENT_VERSION, model: spec, training: normalized, dataset },
    plan,
    datasetId: dataset.id,
    queueName,
    epochs: normalized.epochs,
  });
  const claim = await jobsRepo.markRunning(db, job.id, { engine: engine as object, maxRunning: async () => Number.MAX_SAFE_INTEGER });
  if (!('claimed' in claim)) throw new Error(`could not mark job ${job.id} running: ${JSON.stringify(claim)}`);

  const model = buildModel(spec, { seed: normalized.seed });
  const modelId = randomUUID();
  const artifactKey = modelArtifactKey(modelId);
  const sizeBytes = await saveModelArtifact(createArtifactStore({ kind: 'disk', dir: artifactDir }), artifactKey, model);
  // What trainJob computes for a built-in dataset: statistics of the examples themselves.
  const data = await loadMnist(dataset.limit);
  const inputShape = [...spec.input.shape];
  const stats = computeStats(data.x, data.y, MNIST.inputShape, MNIST.numClasses);
  const preprocessing: Preprocessing = {
    inputShape,
    valueRange: MNIST.valueRange,
    outputs: finalActivation(spec) === 'linear' ? 'logits' : 'probabilities',
    normalization: normalizationFor(normalized.normalization, stats, inputShape[inputShape.length - 1]),
    image: MNIST.image && inputShape.length === 3 ? { ...MNIST.image, valueScale: MNIST.valueRange[1] <= 1 ? 1 / 255 : 1 } : null,
  };
  const saved = await completeJobWithModel(
    db,
    {
      id: modelId,
      tenantId,
      jobId: job.id,
      name: job.name,
      inputShape,
      numClasses: MNIST.numClasses,
      classNames: MNIST.classNames,
      spec: spec as object,
      metrics: { epochs: 0, loss: null, accuracy: null, valLoss: null, valAccuracy: null, testLoss: null, testAccuracy: null },
      preprocessing: preprocessing as object,
      artifactKey,
      sizeBytes,
      engine: engine as object,
    },
    { testLoss: null, testAccuracy: null, stopReason: null },
  );
  if (!saved) throw new Error(`job ${job.id} was not running when its model was stored`);
  return { name, id: saved.id, jobId: job.id, model, params: plan.totalParams };
}

// ---------------------------------------------------------------- bare baseline

interface Bare {
  samplesPerSec: number;
  batches: number;
}

/** Both bare measurements of a model and their mean, which the ratios use. */
interface BarePair {
  before: Bare;
  after: Bare | null;
  samplesPerSec: number;
}

/** model.predict at batch 64 on real digits, in this thread: warm-up, then timed for BARE_SECONDS. */
async function timeBare(model: tf.LayersModel, digits: Float32Array): Promise<Bare> {
  const x = tf.tensor4d(digits.subarray(0, BARE_BATCH * 784), [BARE_BATCH, 28, 28, 1]);
  const once = async () => {
    const out = model.predict(x) as tf.Tensor;
    await out.data();
    out.dispose();
  };
  try {
    const warmStart = performance.now();
    for (let i = 0; i < 3 || performance.now() - warmStart < 500; i++) await once();
    let batches = 0;
    const start = performance.now();
    while (performance.now() - start < BARE_SECONDS * 1000) {
      await once();
      batches++;
    }
    return { samplesPerSec: (batches * BARE_BATCH * 1000) / (performance.now() - start), batches };
  } finally {
    x.dispose();
  }
}

// ---------------------------------------------------------------- the API process

interface ApiProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `npm run api` as a child process, resolved once /readyz answers 200. */
async function startApi(env: Record<string, string>): Promise<ApiProcess> {
  const { child, output } = spawnTsx('src/api/server.ts', env);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const api: ApiProcess = {
    child,
    baseUrl: `http://127.0.0.1:${env.PORT}`,
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
  liveApi = api;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the API exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`);
    try {
      const res = await fetch(`${api.baseUrl}/readyz`);
      if (res.ok) return api;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await api.stop();
      throw new Error(`the API was not ready within 90 s:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The API child, killed on any way out of this process; the artifact directory, removed on a signal. */
let liveApi: ApiProcess | null = null;
let liveArtifactDir: string | null = null;
process.once('exit', () => liveApi?.child.kill('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    liveApi?.child.kill('SIGKILL');
    if (liveArtifactDir) rmSync(liveArtifactDir, { recursive: true, force: true });
    process.exit(130);
  });
}

// ---------------------------------------------------------------- /healthz probe

/**
 * Plain JavaScript (worker threads do not run TypeScript): GETs /healthz every
 * 20 ms on one keep-alive connection, never two at once, until told to stop;
 * then posts its latencies (ms) and failures. A thread of its own, so that
 * autocannon's work on this process's event loop does not inflate them.
 */
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const latencies = workerData.targets.map(() => []);
let failures = 0;
let stopping = false;
let turn = 0;
function probe() {
  if (stopping) return parentPort.postMessage({ latencies, failures });
  const which = turn++ % workerData.targets.length;
  const { path, headers } = workerData.targets[which];
  const start = performance.now();
  let done = false;
  const next = (ok) => {
    if (done) return;
    done = true;
    const ms = performance.now() - start;
    if (ok) latencies[which].push(ms); else failures++;
    setTimeout(probe, Math.max(0, workerData.everyMs - ms));
  };
  const req = http.get({ host: '127.0.0.1', port: workerData.port, path, headers, agent, timeout: 5000 }, (res) => {
    res.resume();
    res.on('end', () => next(res.statusCode === 200));
    res.on('error', () => next(false));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => next(false));
}
parentPort.on('message', (m) => { if (m === 'stop') stopping = true; });
probe();
`;

/** What the probe asks, in turn: liveness, and a job as a client following it would (through auth and PostgreSQL). */
interface ProbeTargets {
  port: number;
  jobId: string;
  key: string;
}

interface ProbeResult {
  /** ms, sorted: /healthz and GET /v1/jobs/{id}. */
  healthz: number[];
  job: number[];
  failures: number;
}

interface Probe {
  stop(): Promise<ProbeResult>;
}

function startProbe({ port, jobId, key }: ProbeTargets): Probe {
  const targets = [{ path: '/healthz' }, { path: `/v1/jobs/${jobId}`, headers: { authorization: `Bearer ${key}` } }];
  const worker = new Worker(PROBE_SOURCE, { eval: true, workerData: { port, targets, everyMs: HEALTHZ_EVERY_MS / 2 } });
  const result = new Promise<{ latencies: number[][]; failures: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const r = await result;
      await worker.terminate();
      const [healthz, job] = r.latencies.map((l) => l.sort((a, b) => a - b));
      return { healthz, job, failures: r.failures };
    },
  };
}

// ---------------------------------------------------------------- uploads

/** An IDX file as MNIST ships them: big-endian magic (type 0x08 = unsigned byte, then the rank), dimensions, data. */
function idx(dims: number[], body: Uint8Array): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, i) => header.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(header.byteLength + body.length);
  out.set(new Uint8Array(header.buffer));
  out.set(body, header.byteLength);
  return out;
}

/** 60,000 synthetic 28x28 digits with labels: the size of the MNIST training set. */
function mnistSizeIdx(): FormData {
  const n = 60_000;
  const x = new Uint8Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = (i * 2654435761) >>> 24;
  const y = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const form = new FormData();
  form.append('format', 'idx');
  form.append('name', 'bench-60k');
  form.append('images', new Blob([idx([n, 28, 28], x)]), 'images.idx');
  form.append('labels', new Blob([idx([n], y)]), 'labels.idx');
  return form;
}

/** The upload that once froze the API for 38 s: 100,000 columns, 20 rows. */
function wideCsv(): FormData {
  const header = Array.from({ length: 100_000 }, (_, i) => (i === 99_999 ? 'label' : `f${i}`)).join(',');
  const rows = Array.from({ length: 20 }, (_, r) => Array.from({ length: 100_000 }, (_, i) => (i === 99_999 ? r % 2 : (r + i) % 10)).join(','));
  const form = new FormData();
  form.append('format', 'csv');
  form.append('file', new Blob([[header, ...rows].join('\n')]), 'wide.csv');
  return form;
}

interface UploadRow {
  what: string;
  status: number;
  seconds: number;
  healthzP99: number | null;
  jobGetP99: number | null;
  probes: number;
  detail: string;
}

async function runUpload(api: ApiProcess, key: string, jobId: string, what: string, form: FormData): Promise<UploadRow> {
  const probe = startProbe({ port: Number(new URL(api.baseUrl).port), jobId, key });
  const started = performance.now();
  const res = await fetch(`${api.baseUrl}/v1/datasets`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
  const seconds = (performance.now() - started) / 1000;
  const body = (await res.json()) as { id?: string; examples?: number; detail?: string };
  // Probe a moment past the answer too: work the upload left behind would show there.
  await new Promise((r) => setTimeout(r, 200));
  const health = await probe.stop();
  if (body.id) await fetch(`${api.baseUrl}/v1/datasets/${body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
  return {
    what,
    status: res.status,
    seconds,
    healthzP99: health.healthz.length ? percentile(health.healthz, 99) : null,
    jobGetP99: health.job.length ? percentile(health.job, 99) : null,
    probes: health.healthz.length + health.job.length,
    detail: body.examples !== undefined ? `${num(body.examples)} examples stored` : (body.detail ?? ''),
  };
}

// ---------------------------------------------------------------- load runs

/**
 * PostgreSQL and Redis processes (by command name): every predict costs them
 * work (key and model lookups, the rate-limit counter), which is not in the
 * API process's CPU. Shared with anyone else using them on this machine.
 */
function storePids(): number[] {
  const pids: number[] = [];
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        if (comm === 'postgres' || comm === 'redis-server') pids.push(Number(entry));
      } catch {
        // exited while we read
      }
    }
  } catch {
    // no /proc
  }
  return pids;
}

interface ServingStats {
  batches: number;
  instances: number;
}

async function servingStats(baseUrl: string, adminToken: string): Promise<ServingStats | null> {
  const res = await fetch(`${baseUrl}/v1/admin/serving`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET /v1/admin/serving: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as Partial<ServingStats>;
  if (typeof body.batches !== 'number' || typeof body.instances !== 'number') return null;
  return { batches: body.batches, instances: body.instances };
}

interface Row {
  model: ModelName;
  clients: number;
  reqPerSec: number;
  ok: number;
  p50: number;
  p99: number;
  meanBatch: number | null;
  healthzP99: number | null;
  /** GET /v1/jobs/{id} meanwhile: a control-plane read through auth and PostgreSQL. */
  jobGetP99: number | null;
  healthzProbes: number;
  healthzFailures: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Cores used during the timed run by the API process and by this process (autocannon + probe). */
  serverCores: number | null;
  clientCores: number | null;
  /** Cores used by PostgreSQL and Redis meanwhile (for us or anyone else). */
  storeCores: number | null;
  /** Cores used by other processes on the machine meanwhile (test runs, ...). */
  otherCores: number | null;
  /** p99 event-loop delay of this process: high means the client itself was a bottleneck. */
  clientLoopP99: number;
  seconds: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function load(
  api: ApiProcess,
  modelId: string,
  key: string,
  bodies: string[],
  clients: number,
  seconds: number,
  onResponse?: (status: number, ms: number) => void,
): Promise<autocannon.Result> {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: api.baseUrl,
        connections: clients,
        duration: seconds,
        requests: bodies.map((body) => ({ method: 'POST' as const, path: `/v1/models/${modelId}/predict`, headers, body })),
      },
      (err: unknown, result: autocannon.Result) => (err ? reject(err) : resolve(result)),
    );
    if (onResponse) instance.on('response', (_client, statusCode, _bytes, responseTime) => onResponse(statusCode, responseTime));
  });
}

async function runRow(api: ApiProcess, stored: StoredModel, key: string, adminToken: string, bodies: string[], clients: number): Promise<Row> {
  if (warmup > 0) await load(api, stored.id, key, bodies, clients, warmup);
  const before = await servingStats(api.baseUrl, adminToken);
  const latencies: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const probe = startProbe({ port: Number(new URL(api.baseUrl).port), jobId: stored.jobId, key });
  // The API is our child: this process's tree is client + API; the API's own tree is subtracted.
  const serverCpu0 = sampleCpu([api.child.pid!]);
  const treeCpu0 = sampleCpu([process.pid]);
  const stores = storePids();
  const storeCpu0 = sampleCpu(stores);
  loop.enable();
  const result = await load(api, stored.id, key, bodies, clients, duration, (status, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  loop.disable();
  const serverCpu = cpuBetween(serverCpu0, sampleCpu([api.child.pid!]));
  const treeCpu = cpuBetween(treeCpu0, sampleCpu([process.pid]));
  const storeCpu = cpuBetween(storeCpu0, sampleCpu(stores));
  const health = await probe.stop();
  const after = await servingStats(api.baseUrl, adminToken);
  latencies.sort((a, b) => a - b);
  const healthSorted = health.healthz;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  const dBatches = before && after ? after.batches - before.batches : 0;
  return {
    model: stored.name,
    clients,
    reqPerSec: result['2xx'] / result.duration,
    ok: result['2xx'],
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    meanBatch: before && after && dBatches > 0 ? (after.instances - before.instances) / dBatches : null,
    healthzP99: healthSorted.length ? percentile(healthSorted, 99) : null,
    jobGetP99: health.job.length ? percentile(health.job, 99) : null,
    healthzProbes: healthSorted.length,
    healthzFailures: health.failures,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    serverCores: serverCpu?.ourCores ?? null,
    clientCores: serverCpu && treeCpu ? Math.max(0, treeCpu.ourCores - serverCpu.ourCores) : null,
    storeCores: storeCpu?.ourCores ?? null,
    otherCores: treeCpu && storeCpu ? Math.max(0, treeCpu.otherCores - storeCpu.ourCores) : null,
    clientLoopP99: loop.percentile(99) / 1e6,
    seconds: result.duration,
  };
}

// ---------------------------------------------------------------- output

const num = (v: number, digits = 0) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (v: number | null) => (v === null || Number.isNaN(v) ? 'n/a' : v < 10 ? v.toFixed(2) : v.toFixed(1));

function printTable(rows: Row[], bare: Map<ModelName, BarePair>): void {
  const cols = ['model', 'clients', 'req/s', 'p50 ms', 'p99 ms', 'mean batch', 'healthz p99 ms', 'job GET p99 ms', 'ratio vs bare'];
  const widths = [6, 7, 9, 8, 8, 10, 14, 14, 13];
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  console.log(line(cols));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) {
    const b = bare.get(r.model)!;
    console.log(
      line([
        r.model,
        String(r.clients),
        num(r.reqPerSec, 1),
        ms(r.p50),
        ms(r.p99),
        r.meanBatch === null ? 'n/a' : r.meanBatch.toFixed(2),
        ms(r.healthzP99),
        ms(r.jobGetP99),
        `${(r.reqPerSec / b.samplesPerSec).toFixed(3)}×`,
      ]) + (r.non2xx + r.errors + r.timeouts > 0 ? '   <-- ERRORS' : ''),
    );
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const config = loadConfig(process.env, { DATABASE_URL: process.env.DATABASE_URL ?? BENCH_DATABASE_URL });
  const passedThrough = Object.entries(process.env).filter(([k]) => /^(PREDICT|COMPUTE)_/.test(k));
  console.log(
    `bench:predict  models ${modelNames.join(', ')}; clients ${clientCounts.join(', ')}; ${duration} s timed after ${warmup} s warm-up per row; ` +
      `node ${process.version}; load average ${loadAverage()}`,
  );
  const before = sampleCpu();
  await new Promise((r) => setTimeout(r, 500));
  const machine = cpuBetween(before, sampleCpu());
  console.log(
    `  machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${machine?.cores ?? '?'} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB; ` +
      `${machine ? machine.busyCores.toFixed(2) : '?'} busy over 0.5 s before the bench` +
      `${machine && machine.stealCores >= 0.01 ? `, ${machine.stealCores.toFixed(2)} stolen` : ''}; ` +
      `server env: ENGINE=${config.ENGINE}${passedThrough.map(([k, v]) => ` ${k}=${v}`).join('')}`,
  );

  await prepareDatabase(config.DATABASE_URL);
  const db = createDb(config.DATABASE_URL, { poolSize: 2 });
  const artifactDir = mkdtempSync(path.join(tmpdir(), 'trainyard-predict-bench-'));
  liveArtifactDir = artifactDir;
  const queueName = `bench-predict-${randomBytes(5).toString('hex')}`;
  let api: ApiProcess | null = null;
  try {
    const engine = await selectEngine(config.ENGINE);
    const tenant = `bench-${randomBytes(5).toString('hex')}`;
    await createTenant(db, tenant);
    const { key } = await createKey(db, tenant, 'predict-bench');
    const stored: StoredModel[] = [];
    for (const name of modelNames) stored.push(await storeModel(db, artifactDir, tenant, queueName, name, engine));

    // Real digits: 64 distinct request bodies (values as the mnist package has them), and a batch for the baseline.
    const mnist = await loadMnist(DISTINCT_BODIES + BARE_BATCH);
    const bodies = Array.from({ length: DISTINCT_BODIES }, (_, i) => {
      const pixels = Array.from(mnist.x.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255) / 255);
      return JSON.stringify({ instances: [pixels] });
    });

    const bare = new Map<ModelName, BarePair>();
    console.log(`\nbare baseline: model.predict, batch ${BARE_BATCH}, this process, one thread, engine ${engine.name}${engine.simd !== undefined ? ` (simd ${engine.simd})` : ''}`);
    for (const s of stored) {
      const b = await timeBare(s.model, mnist.x.subarray(DISTINCT_BODIES * 784));
      bare.set(s.name, { before: b, after: null, samplesPerSec: b.samplesPerSec });
      console.log(`  ${s.name.padEnd(5)} ${num(s.params)} params: ${num(b.samplesPerSec, 1)} samples/s (${b.batches} batches in ${BARE_SECONDS} s)`);
    }

    const port = await freePort();
    const adminToken = randomBytes(24).toString('hex');
    api = await startApi({
      DATABASE_URL: config.DATABASE_URL,
      QUEUE_NAME: queueName,
      ARTIFACT_DIR: artifactDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PREDICT: '100000000',
      ADMIN_TOKEN: adminToken,
    });
    const ready = (await (await fetch(`${api.baseUrl}/readyz`)).json()) as { engine?: { name: string } };
    console.log(`\nAPI: pid ${api.child.pid} on ${api.baseUrl}, engine ${ready.engine?.name ?? '?'}; queue ${queueName}`);
    if (ready.engine?.name && ready.engine.name !== engine.name) console.log(`  !! the API runs on ${ready.engine.name}, the baseline on ${engine.name}`);

    for (const s of stored) {
      // One request first: a wrong body or model fails here with its answer, not as thousands of non-2xx.
      const res = await fetch(`${api.baseUrl}/v1/models/${s.id}/predict`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: bodies[0],
      });
      if (!res.ok) throw new Error(`predict on ${s.name} answered ${res.status}: ${await res.text()}`);
    }
    if ((await servingStats(api.baseUrl, adminToken)) === null) console.log('  GET /v1/admin/serving: 404 or no counters; mean batch is n/a');

    const rows: Row[] = [];
    for (const s of stored) {
      for (const clients of clientCounts) {
        const load0 = loadAverage();
        const row = await runRow(api, s, key, adminToken, bodies, clients);
        rows.push(row);
        console.log(
          `  ${s.name} × ${clients}: ${num(row.ok)} ok in ${row.seconds} s; healthz ${row.healthzProbes} probes` +
            `${row.healthzFailures ? `, ${row.healthzFailures} FAILED` : ''}; cores: API ${row.serverCores?.toFixed(2) ?? '?'}, ` +
            `bench client ${row.clientCores?.toFixed(2) ?? '?'} (event-loop p99 ${row.clientLoopP99.toFixed(1)} ms), ` +
            `postgres+redis ${row.storeCores?.toFixed(2) ?? '?'}, other processes ${row.otherCores?.toFixed(2) ?? '?'}; load average before ${load0}`,
        );
        if (row.non2xx + row.errors + row.timeouts > 0) {
          console.log(
            `  !!!!! ${s.name} × ${clients}: ${row.non2xx} non-2xx answers, ${row.errors} connection errors, ${row.timeouts} timeouts; ` +
              `status codes ${JSON.stringify(row.statusCodes)} !!!!!`,
          );
        }
        if (api.child.exitCode !== null || api.child.signalCode !== null) throw new Error(`the API exited during the run:\n${api.output()}`);
      }
    }

    console.log('\nuploads, probing /healthz and GET /v1/jobs/{id} meanwhile (parsing runs on the compute threads):');
    const uploads = [
      await runUpload(api, key, stored[0].jobId, 'mnist-size IDX: 60,000 digits, 47 MB', mnistSizeIdx()),
      await runUpload(api, key, stored[0].jobId, 'wide CSV: 100,000 columns x 20 rows, 4.7 MB', wideCsv()),
    ];
    for (const u of uploads) {
      console.log(`  ${u.what}: ${u.status} in ${u.seconds.toFixed(2)} s; healthz p99 ${ms(u.healthzP99)} ms, job GET p99 ${ms(u.jobGetP99)} ms (${u.probes} probes); ${u.detail}`);
    }

    console.log(`\nbare baseline again, after the load (API idle):`);
    for (const s of stored) {
      const pair = bare.get(s.name)!;
      pair.after = await timeBare(s.model, mnist.x.subarray(DISTINCT_BODIES * 784));
      pair.samplesPerSec = (pair.before.samplesPerSec + pair.after.samplesPerSec) / 2;
      console.log(`  ${s.name.padEnd(5)} ${num(pair.after.samplesPerSec, 1)} samples/s (${pair.after.batches} batches in ${BARE_SECONDS} s)`);
    }

    console.log(`\nresults (req/s: 2xx answers per second, one instance each; p50/p99 over 2xx answers; load average now ${loadAverage()})`);
    printTable(rows, bare);
    console.log(`\nbare baselines (model.predict, batch ${BARE_BATCH}, one thread, same weights, engine ${engine.name}); ratios use the mean:`);
    for (const s of stored) {
      const pair = bare.get(s.name)!;
      console.log(
        `  ${s.name.padEnd(5)} ${num(pair.samplesPerSec, 1).padStart(9)} samples/s  (before the API ${num(pair.before.samplesPerSec, 1)}, after the load ${num(pair.after!.samplesPerSec, 1)})`,
      );
    }
    console.log('\ntargets (for reference; the run does not fail on them):');
    for (const t of TARGETS) console.log(`  - ${t}`);
    const errorRows = rows.filter((r) => r.non2xx + r.errors + r.timeouts > 0);
    if (errorRows.length > 0) {
      console.log(
        `\n!!!!! ${errorRows.length} row(s) had errors: ${errorRows.map((r) => `${r.model}×${r.clients} ${JSON.stringify(r.statusCodes)} errors ${r.errors} timeouts ${r.timeouts}`).join('; ')} !!!!!`,
      );
    }
    const apiLog = api.output().trim();
    if (apiLog) console.log(`\nAPI output (warn and above, last lines):\n${apiLog.split('\n').slice(-10).join('\n')}`);
    console.log('');
    for (const r of rows) {
      const { statusCodes, ...rest } = r;
      console.log(JSON.stringify({ ...rest, bareSamplesPerSec: Math.round(bare.get(r.model)!.samplesPerSec), statusCodes }));
    }
  } finally {
    await api?.stop();
    liveApi = null;
    await db.$disconnect();
    rmSync(artifactDir, { recursive: true, force: true });
    liveArtifactDir = null;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
