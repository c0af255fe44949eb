/** Number and time formatting for the console. Pure: no DOM. */

const grouped = new Intl.NumberFormat('en-US');

/** 3274634 → "3,274,634". */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : grouped.format(n);
}

/** 3274634 → "3.27 M"; 27800000000 → "27.8 G". */
export function compact(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const abs = Math.abs(n);
  for (const [limit, suffix] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (abs >= limit) return `${(n / limit).toPrecision(3).replace(/\.?0+$/, '')} ${suffix}`;
  }
  return String(n);
}

/** A loss or accuracy: 4 significant decimals, or "—". */
export function metric(n: number | null | undefined, digits = 4): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}

/** A learning rate, 3 significant digits: 0.001 → "0.001", 0.000213 → "0.000213", 1e-7 → "1e-7". */
export function rate(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : String(Number(n.toPrecision(3)));
}

/** 0.9731 → "97.3%". */
export function percent(fraction: number | null | undefined, digits = 1): string {
  return fraction === null || fraction === undefined || !Number.isFinite(fraction) ? '—' : `${(fraction * 100).toFixed(digits)}%`;
}

/** 83000 → "1m 23s"; 5400000 → "1h 30m"; 900 → "0.9s". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** Bytes in binary units: 1536 → "1.5 KiB". */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** [14, 14, 32] → "14×14×32". */
export function shape(s: readonly number[]): string {
  return s.join('×');
}

/** "3 min ago", "2 h ago", or the date for older times. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  const s = Math.round((now - t) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(t).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  });
}

/** Local date and time, to the second. */
export function timestamp(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en-GB', {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/**
 * Remaining time of a job from its progress: the rate measured between two
 * samples when there are two, else from the time since it started.
 */
export function eta(percentDone: number, elapsedMs: number): number | null {
  if (!(percentDone > 0) || percentDone >= 100 || !(elapsedMs > 0)) return null;
  return (elapsedMs * (100 - percentDone)) / percentDone;
}

/** JSON on one line with a space after each colon and comma: `{"shape": [28, 28, 1]}`. */
function inlineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(', ')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${inlineJson(v)}`)
      .join(', ')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** JSON for people: what fits in `width` stays on one line (a layer, a distribution), the rest is indented. */
export function compactJson(value: unknown, indent = '', width = 80, lead = 0): string {
  const flat = inlineJson(value);
  // `lead`: what precedes the value on its line (its key).
  if (value === null || typeof value !== 'object' || indent.length + lead + flat.length <= width) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + compactJson(v, inner, width)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner, width, k.length + 4)}`).join(',\n')}\n${indent}}`;
}
