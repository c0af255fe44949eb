import { createServer } from 'node:net';
import type { AppConfig } from '../../src/config/config.js';
import { createKey, createTenant } from '../../src/storage/api-keys.repository.js';
import { createDb } from '../../src/storage/prisma.js';
import { testConfig } from './config.js';
import { spawnApi, spawnWorker, type WorkerProcess } from './worker-process.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface ApiStack {
  config: AppConfig;
  baseUrl: string;
  tenant: string;
  key: string;
  api: WorkerProcess;
  worker: WorkerProcess;
  /** fetch() against the API with this tenant's key; parses JSON answers. */
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/**
 * The API and one training worker as real processes (what `npm start` runs),
 * on this test's database, queue and a free port, with a tenant and key of
 * their own.
 */
export async function startApiStack(overrides: Partial<AppConfig> = {}): Promise<ApiStack> {
  const config = testConfig({ PORT: await freePort(), HOST: '127.0.0.1', COMPUTE_THREADS: 1, ...overrides });
  const db = createDb(config.DATABASE_URL);
  const tenant = `stack-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  await createTenant(db, tenant);
  const { key } = await createKey(db, tenant, 'browser');
  await db.$disconnect();
  const [api, worker] = await Promise.all([spawnApi(config), spawnWorker(config)]);
  const baseUrl = `http://127.0.0.1:${config.PORT}`;
  return {
    config,
    baseUrl,
    tenant,
    key,
    api,
    worker,
    async call(method, path, body) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      for (const p of [worker, api]) {
        if (p.child.exitCode === null) {
          p.child.kill('SIGTERM');
          await Promise.race([p.exited, new Promise((r) => setTimeout(r, 10_000))]);
          if (p.child.exitCode === null) p.child.kill('SIGKILL');
        }
      }
    },
  };
}
