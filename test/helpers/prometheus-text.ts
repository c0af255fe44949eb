/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses a scrape; a line that is neither a comment nor a sample fails the parse, naming it. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (m[2] ?? '').matchAll(LABEL)) labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    // Prometheus reads NaN in any case (prom-client writes "Nan").
    if (Number.isNaN(value) && m[3].toLowerCase() !== 'nan') throw new Error(`bad sample value in ${JSON.stringify(line)}`);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

/** The samples named `name` whose labels include `labels`. */
export function samplesOf(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with these labels; fails when there is none or several. */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samplesOf(samples, name, labels);
  if (found.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}: ${JSON.stringify(found).slice(0, 500)}`);
  return found[0].value;
}

/**
 * Checks a histogram's series for one label set: buckets never decrease,
 * the +Inf bucket equals _count. Returns its count and sum.
 */
export function histogramOf(samples: Sample[], name: string, labels: Record<string, string> = {}): { count: number; sum: number; buckets: Map<number, number> } {
  const buckets = new Map(samplesOf(samples, `${name}_bucket`, labels).map((s) => [s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value]));
  const count = sampleValue(samples, `${name}_count`, labels);
  const sum = sampleValue(samples, `${name}_sum`, labels);
  const ordered = [...buckets].sort(([a], [b]) => a - b);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i][1] < ordered[i - 1][1]) throw new Error(`${name}: bucket le=${ordered[i][0]} holds fewer than le=${ordered[i - 1][0]}`);
  }
  if (buckets.get(Infinity) !== count) throw new Error(`${name}: the +Inf bucket (${buckets.get(Infinity)}) differs from _count (${count})`);
  return { count, sum, buckets };
}
