/**
 * Hash routes (`#/jobs/<id>`): the server serves one page at `/`, and a
 * reload or a shared link lands on the same view. Nothing secret is ever put
 * in a route.
 */
export interface Route {
  /** `jobs`, `job`, `new`, `sweeps`, `sweep`, `new-sweep`, `compare`, `models`, `model`, `datasets`, `dataset` or `not-found`. */
  name: string;
  params: Record<string, string>;
  query: URLSearchParams;
}

const PATTERNS: [RegExp, string, string[]][] = [
  [/^\/?$/, 'jobs', []],
  [/^\/jobs\/?$/, 'jobs', []],
  [/^\/jobs\/([^/]+)$/, 'job', ['id']],
  [/^\/new\/?$/, 'new', []],
  [/^\/sweeps\/?$/, 'sweeps', []],
  // Before the sweep pattern: "new" is not a sweep id.
  [/^\/sweeps\/new\/?$/, 'new-sweep', []],
  [/^\/sweeps\/([^/]+)$/, 'sweep', ['id']],
  [/^\/compare\/?$/, 'compare', []],
  [/^\/models\/?$/, 'models', []],
  [/^\/models\/([^/]+)$/, 'model', ['id']],
  [/^\/registry\/([^/]+)$/, 'registered', ['name']],
  [/^\/datasets\/?$/, 'datasets', []],
  [/^\/datasets\/([^/]+)$/, 'dataset', ['id']],
];

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path, search = ''] = raw.split('?', 2);
  const query = new URLSearchParams(search);
  for (const [pattern, name, keys] of PATTERNS) {
    const m = pattern.exec(path);
    if (m)
      return {
        name,
        params: Object.fromEntries(keys.map((k, i) => [k, decodeURIComponent(m[i + 1])])),
        query,
      };
  }
  return { name: 'not-found', params: { path }, query };
}

export function href(path: string, query?: Record<string, string>): string {
  const q = query ? new URLSearchParams(query).toString() : '';
  return `#${path}${q ? `?${q}` : ''}`;
}
