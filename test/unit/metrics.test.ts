import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter } from 'prom-client';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { createMetricsRegistry, metricsAccess, serveMetrics, type MetricsServer } from '../../src/infra/metrics.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

const TOKEN = 'a-metrics-token-of-some-length';

describe('metrics settings', () => {
  it('default to open metrics and port 9464 for workers', () => {
    const config = loadConfig({});
    expect(config.METRICS_TOKEN).toBeUndefined();
    expect(config.WORKER_METRICS_PORT).toBe(9464);
    expect(loadConfig({ WORKER_METRICS_PORT: '0', METRICS_TOKEN: TOKEN })).toMatchObject({ WORKER_METRICS_PORT: 0, METRICS_TOKEN: TOKEN });
  });

  it.each([
    [{ WORKER_METRICS_PORT: 'x' }, /WORKER_METRICS_PORT must be an integer from 0 to 65535, got "x" \(default 9464\)/],
    [{ WORKER_METRICS_PORT: '65536' }, /WORKER_METRICS_PORT must be an integer from 0 to 65535, got 65536/],
  ])('reject %o naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echo a metrics token that is too short', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'hunter2-secret' })).toThrow(/METRICS_TOKEN .*16.*\(value not shown\)/);
    try {
      loadConfig({ METRICS_TOKEN: 'hunter2-secret' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

describe('metricsAccess', () => {
  it.each([
    [undefined, undefined, 'allowed'],
    ['Bearer anything', undefined, 'allowed'],
    [undefined, TOKEN, 'missing'],
    [`Bearer ${TOKEN}`, TOKEN, 'allowed'],
    [`bearer   ${TOKEN}  `, TOKEN, 'allowed'],
    [`Bearer ${TOKEN}x`, TOKEN, 'wrong'],
    [`Bearer ${TOKEN.slice(1)}`, TOKEN, 'wrong'],
    [`Basic ${TOKEN}`, TOKEN, 'wrong'],
    ['Bearer', TOKEN, 'wrong'],
  ])('%s against token %s: %s', (header, token, expected) => {
    expect(metricsAccess(header, token)).toBe(expected);
  });
});

describe("a worker's metrics listener", () => {
  const opened: (MetricsServer | Server)[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await ('port' in s ? s.close() : new Promise((r) => s.close(r)));
  });

  function registryWithCounter() {
    const registry = createMetricsRegistry();
    const counter = new Counter({ name: 'trainyard_test_things_total', help: 'Things.', registers: [registry] });
    counter.inc(3);
    return registry;
  }

  it('serves /metrics with the token, refuses it without, and answers /healthz openly', async () => {
    const server = await serveMetrics(registryWithCounter(), { host: '127.0.0.1', port: 0, token: TOKEN });
    opened.push(server);
    const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
    const ok = await fetch(url('/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheusText(await ok.text());
    expect(sampleValue(samples, 'trainyard_test_things_total')).toBe(3);
    expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);

    const refused = await fetch(url('/metrics'));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await refused.json()).toMatchObject({ status: 401, code: 'unauthorized', detail: 'the metrics need Authorization: Bearer <METRICS_TOKEN>' });
    expect((await fetch(url('/metrics'), { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);

    expect(await (await fetch(url('/healthz'))).json()).toEqual({ status: 'ok' });
    const post = await fetch(url('/metrics'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(url('/'))).status).toBe(404);
  });

  it('falls back to a free port when its port is taken, and says so', async () => {
    const taken = createServer();
    opened.push(taken);
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const busyPort = (taken.address() as AddressInfo).port;
    const told: number[] = [];
    const server = await serveMetrics(registryWithCounter(), { host: '127.0.0.1', port: busyPort, onPortTaken: (p) => told.push(p) });
    opened.push(server);
    expect(told).toEqual([busyPort]);
    expect(server.port).not.toBe(busyPort);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(200);
  });
});
