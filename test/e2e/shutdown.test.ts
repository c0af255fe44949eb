import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/storage/prisma.js';
import { createKey, createTenant } from '../../src/storage/api-keys.repository.js';
import { testConfig } from '../helpers/config.js';
import { spawnApi, type WorkerProcess } from '../helpers/worker-process.js';

/** SIGTERM of a real API process: every request already sent gets an answer (200 or 503), none is reset. */
let api: WorkerProcess | undefined;
afterAll(() => {
  if (api && api.child.exitCode === null) api.child.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One request on a connection of its own; resolves with its status, or the socket error that ended it. */
function send(port: number, path: string, key: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { authorization: `Bearer ${key}` } }, (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

describe('graceful shutdown of the API', () => {
  it('answers every request sent just before SIGTERM, then new ones 503 while draining, and exits 0', async () => {
    const config = testConfig({ PORT: await freePort(), HOST: '127.0.0.1', SHUTDOWN_DRAIN_MS: 1500, COMPUTE_THREADS: 1 });
    const db = createDb(config.DATABASE_URL);
    const tenant = `shutdown-${Date.now()}`;
    await createTenant(db, tenant);
    const { key } = await createKey(db, tenant, 'shutdown');
    await db.$disconnect();
    api = await spawnApi(config);

    // 80 requests on 80 new connections, the signal while they are still arriving.
    const paths = ['/v1/jobs', '/healthz', '/readyz', '/v1/models'];
    const sent = Array.from({ length: 80 }, (_, i) => send(config.PORT, paths[i % paths.length], key));
    await new Promise((r) => setTimeout(r, 20));
    api.child.kill('SIGTERM');
    const during = await Promise.all(Array.from({ length: 10 }, () => send(config.PORT, '/v1/jobs', key)));
    const outcomes = await Promise.all(sent);
    const code = await api.exited;

    const resets = outcomes.filter((o) => typeof o === 'string');
    expect(resets, `requests not answered: ${JSON.stringify(outcomes)}`).toEqual([]);
    outcomes.forEach((o, i) => expect([200, 503], paths[i % paths.length]).toContain(o));
    // Requests that arrive while draining are answered 503, not refused.
    expect(during).toEqual(Array(10).fill(503));
    expect(code).toBe(0);
    expect(api.output()).toMatch(/draining: new requests are answered 503/);
  });
});
