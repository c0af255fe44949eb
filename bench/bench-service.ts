/**
 * The service as deployed, for benches: the API listening on a port in this
 * process, training workers as separate processes (`src/worker/main.ts`,
 * what `npm run worker` runs), each training in its sandbox child; a
 * database of the bench's own, migrated; a queue and a tenant of its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/api/app.js';
import { configToEnv, loadConfig, type AppConfig } from '../src/config/config.js';
import { trainQueueJobId } from '../src/queue/jobs.js';
import { createKey, createTenant } from '../src/storage/api-keys.repository.js';
import type { TrainResult } from '../src/worker/sandbox-process.js';
import { ensureDatabase } from '../scripts/migrate.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export const BENCH_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/trainyard_bench';

/** Creates and migrates the bench database; prints prisma's output only when it fails. */
export async function prepareDatabase(databaseUrl: string): Promise<void> {
  await ensureDatabase(databaseUrl);
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  const result = spawnSync(process.execPath, ['--require', path.join(root, 'scripts/unref-timers.cjs'), cli, 'migrate', 'deploy'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`prisma migrate deploy failed:\n${result.stdout}\n${result.stderr}`);
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
}

export interface JobView {
  id: string;
  status: string;
  attempts: number;
  error: { code: string; message: string } | null;
  engine: Record<string, unknown> | null;
  split: { train: number; validation: number; test: number } | null;
  test: { loss: number | null; accuracy: number | null } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface EpochMetricView {
  epoch: number;
  durationMs: number;
  samplesPerSec: number;
  createdAt: string;
}

export interface BenchService {
  config: AppConfig;
  app: FastifyInstance;
  baseUrl: string;
  workers: WorkerProcess[];
  startWorker(): Promise<WorkerProcess>;
  submit(body: object): Promise<{ id: string; submittedAt: number }>;
  /** Any call of the tenant's API (a non-2xx answer throws with its detail). */
  request<T>(method: string, url: string, body?: object): Promise<T>;
  job(id: string): Promise<JobView>;
  /** Polls until the job is final; returns it and when this client first saw it final (Date.now()). */
  waitFor(id: string, pollMs?: number): Promise<{ job: JobView; seenAt: number }>;
  metrics(id: string): Promise<EpochMetricView[]>;
  /** The queue entry: when a worker took it and finished it, and what the sandbox returned. */
  queueEntry(id: string): Promise<{ processedOn?: number; finishedOn?: number; result: TrainResult | null }>;
  close(): Promise<void>;
}

export async function startBenchService(overrides: Partial<AppConfig> = {}): Promise<BenchService> {
  const artifactDir = mkdtempSync(path.join(tmpdir(), 'trainyard-bench-'));
  const config = loadConfig(process.env, {
    DATABASE_URL: process.env.DATABASE_URL ?? BENCH_DATABASE_URL,
    QUEUE_NAME: `bench-${randomBytes(5).toString('hex')}`,
    ARTIFACT_DIR: artifactDir,
    LOG_LEVEL: 'warn',
    ...overrides,
  });
  await prepareDatabase(config.DATABASE_URL);
  const app = (await buildApp(config, { logger: false })) as unknown as FastifyInstance;
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const tenant = `bench-${randomBytes(5).toString('hex')}`;
  await createTenant(app.services.db, tenant);
  const { key } = await createKey(app.services.db, tenant, 'bench');

  async function call<T>(method: string, url: string, body?: object): Promise<T> {
    const res = await fetch(`${baseUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as T & { detail?: string };
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${json.detail ?? JSON.stringify(json)}`);
    return json;
  }

  const workers: WorkerProcess[] = [];
  const service: BenchService = {
    config,
    app,
    baseUrl,
    workers,
    async startWorker() {
      const worker = await spawnWorker(config);
      workers.push(worker);
      return worker;
    },
    async submit(body) {
      const submittedAt = Date.now();
      const job = await call<{ id: string }>('POST', '/v1/jobs', body);
      return { id: job.id, submittedAt };
    },
    request: call,
    job: (id) => call<JobView>('GET', `/v1/jobs/${id}`),
    async waitFor(id, pollMs = 100) {
      for (;;) {
        const job = await service.job(id);
        if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return { job, seenAt: Date.now() };
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    async metrics(id) {
      return (await call<{ items: EpochMetricView[] }>('GET', `/v1/jobs/${id}/metrics`)).items;
    },
    async queueEntry(id) {
      const entry = await app.services.queue.getJob(trainQueueJobId(id));
      return { processedOn: entry?.processedOn, finishedOn: entry?.finishedOn, result: (entry?.returnvalue as TrainResult | undefined) ?? null };
    },
    async close() {
      await Promise.all(workers.map((w) => stopWorker(w)));
      await app.services.queue.obliterate({ force: true }).catch(() => undefined);
      await app.close();
      rmSync(artifactDir, { recursive: true, force: true });
    },
  };
  return service;
}

/** A TypeScript entry of this repository (`src/api/server.ts`, ...) as a child process, keeping the tail of its output. */
export function spawnTsx(entry: string, env: Record<string, string>): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => out };
}

/** `npm run worker` as a child process with `config`, resolved once it logs that it is ready. */
async function spawnWorker(config: AppConfig): Promise<WorkerProcess> {
  const { child, output } = spawnTsx('src/worker/main.ts', { ...configToEnv(config), LOG_LEVEL: 'info' });
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!output().includes('"worker ready"')) return;
      child.stdout!.off('data', check);
      resolve();
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${output()}`)));
  });
  return { child, pid: child.pid!, output };
}

async function stopWorker(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const exited = new Promise((r) => worker.child.once('exit', r));
  worker.child.kill('SIGTERM');
  await exited;
}
