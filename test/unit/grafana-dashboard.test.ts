import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import type { Registry } from 'prom-client';
import { ApiMetrics } from '../../src/api/services/api-metrics.js';
import { WorkerMetrics } from '../../src/worker/worker-metrics.js';

/**
 * The Grafana dashboard under docker/ queries only series that the API or a
 * worker exports, in PromQL that Prometheus's own grammar parses, and it
 * shows every trainyard_ metric there is.
 */
const DASHBOARD = path.resolve(__dirname, '../../docker/grafana/trainyard-dashboard.json');

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; datasource?: { uid?: string } }[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; definition?: string }[] };
};
const panels = dashboard.panels.filter((p) => p.type !== 'row');

/** Series names a registry exposes: a histogram's _bucket, _sum and _count, a summary's quantiles, _sum and _count. */
async function seriesNames(registry: Registry): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(metric.name + suffix);
    else names.add(metric.name);
  }
  return names;
}

/** Grafana replaces its interval variables before Prometheus sees a query. */
function interpolate(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
}

/** Metric names a query selects, and its syntax errors, from the PromQL grammar. */
function readQuery(expr: string): { metrics: string[]; errors: string[] } {
  const text = interpolate(expr);
  const metrics: string[] = [];
  const errors: string[] = [];
  parser.parse(text).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: ${JSON.stringify(text.slice(Math.max(0, node.from - 10), node.to + 10))}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(text.slice(node.from, node.to));
    },
  });
  return { metrics, errors };
}

const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variableMetrics = dashboard.templating.list.flatMap((v) => [...(v.definition ?? '').matchAll(/label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,/g)].map((m) => m[1]));

describe('the Grafana dashboard', () => {
  it('has panels with queries (the checks below are not vacuous)', () => {
    expect(panels.length).toBeGreaterThan(20);
    expect(queries.length).toBeGreaterThanOrEqual(panels.length);
    expect(variableMetrics).toEqual(['process_cpu_seconds_total']);
    // The reader finds names inside functions, aggregations, label matchers and arithmetic.
    expect(readQuery('sum by (le) (rate(a_total{x=~"y"}[$__rate_interval])) / on() b - time()')).toEqual({ metrics: ['a_total', 'b'], errors: [] });
    expect(readQuery('sum(rate(a_total[5m])').errors).not.toEqual([]);
  });

  it('parses as PromQL, every query', () => {
    const broken = queries.map((q) => ({ ...q, errors: readQuery(q.expr).errors })).filter((q) => q.errors.length > 0);
    expect(broken).toEqual([]);
  });

  it('queries only series the API or a worker exports', async () => {
    const exported = new Set([
      ...(await seriesNames(new ApiMetrics().registry)),
      ...(await seriesNames(new WorkerMetrics({ name: 'wasm', version: '4.22.0' }, 1, () => 0).registry)),
    ]);
    const unknown = [...queries.flatMap((q) => readQuery(q.expr).metrics.map((m) => `${m} (panel "${q.panel}")`)), ...variableMetrics]
      .filter((m) => !exported.has(m.split(' ')[0]))
      .sort();
    expect(unknown).toEqual([]);
  });

  it('shows every trainyard_ metric at least once', async () => {
    const families = [
      ...(await new ApiMetrics().registry.getMetricsAsJSON()),
      ...(await new WorkerMetrics({ name: 'wasm', version: '4.22.0' }, 1, () => 0).registry.getMetricsAsJSON()),
    ]
      .map((m) => m.name)
      .filter((n) => n.startsWith('trainyard_'));
    const used = new Set(queries.flatMap((q) => readQuery(q.expr).metrics));
    const unused = families.filter((name) => ![name, `${name}_bucket`, `${name}_sum`, `${name}_count`].some((s) => used.has(s)));
    expect(unused).toEqual([]);
  });

  it('reads from the datasource variable, with unique panel ids and no overlapping panels', () => {
    expect(dashboard.uid).toBe('trainyard');
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
    // Grafana's own ${...} syntax, not a template literal.
    const variable = ['$', '{datasource}'].join('');
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe(variable);
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe(variable);
    }
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = dashboard.panels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const b of boxes) expect(b.x + b.w, b.title).toBeLessThanOrEqual(24);
    const overlapping = boxes.flatMap((a, i) =>
      boxes
        .slice(i + 1)
        .filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
        .map((b) => `${a.title} / ${b.title}`),
    );
    expect(overlapping).toEqual([]);
  });
});
