import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * Prometheus plumbing shared by the API and the workers. Each process has a
 * registry of its own (tests run several apps and workers in one process),
 * with the standard process and Node.js metrics (process_*, nodejs_*: their
 * usual names, which ready-made dashboards expect); Trainyard's own metrics
 * all start with `trainyard_`.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Bucket bounds in seconds for request latencies, from 5 ms to 5 minutes (event streams stay open long). */
export const HTTP_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export type MetricsAccess = 'allowed' | 'missing' | 'wrong';

/**
 * Whether a scrape may read the metrics: always when no token is set,
 * otherwise only with `Authorization: Bearer <token>` (compared in constant time).
 */
export function metricsAccess(authorization: string | undefined, token: string | undefined): MetricsAccess {
  if (!token) return 'allowed';
  if (!authorization) return 'missing';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return 'wrong';
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'allowed' : 'wrong';
}

export const METRICS_ACCESS_DETAIL: Record<Exclude<MetricsAccess, 'allowed'>, string> = {
  missing: 'the metrics need Authorization: Bearer <METRICS_TOKEN>',
  wrong: 'the metrics token is not valid',
};

export interface MetricsServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  token?: string;
  /** Called when `port` is taken and a free port is used instead. */
  onPortTaken?: (port: number) => void;
}

export interface MetricsServer {
  server: Server;
  /** The port it listens on. */
  port: number;
  close(): Promise<void>;
}

/**
 * A small HTTP listener for a process that has no HTTP server of its own (a
 * worker): GET /metrics in the Prometheus text format, GET /healthz for a
 * liveness probe (it answers while the event loop does). A taken port falls
 * back to a free one rather than stopping the process: metrics are not worth
 * a worker that does not train.
 */
export async function serveMetrics(registry: Registry, options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const problem = (status: number, code: string, title: string, detail: string, headers: Record<string, string> = {}) =>
      send(status, 'application/problem+json', JSON.stringify({ type: `urn:trainyard:problem:${code}`, title, status, detail, code, instance: path }), headers);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return problem(405, 'method-not-allowed', 'Method Not Allowed', `${req.method} is not served here; use GET`, { allow: 'GET, HEAD' });
    if (path === '/healthz') return send(200, 'application/json', '{"status":"ok"}');
    if (path !== '/metrics') return problem(404, 'not-found', 'Not Found', `${path} is not served here; metrics are at /metrics, liveness at /healthz`);
    const access = metricsAccess(req.headers.authorization, options.token);
    if (access !== 'allowed') return problem(401, 'unauthorized', 'Unauthorized', METRICS_ACCESS_DETAIL[access], { 'www-authenticate': 'Bearer realm="metrics"' });
    registry.metrics().then(
      (text) => send(200, registry.contentType, text),
      (err: Error) => problem(500, 'internal', 'Internal Server Error', `collecting the metrics failed: ${err.message}`),
    );
  });
  // A scrape must never keep a stopping worker alive.
  server.keepAliveTimeout = 5000;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(port, options.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  try {
    await listen(options.port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.port === 0) throw err;
    options.onPortTaken?.(options.port);
    await listen(0);
  }
  server.unref();
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
