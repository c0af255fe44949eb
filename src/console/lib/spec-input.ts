import type { ModelSpec, TrainingSpec } from './types.js';

/** Turning what a user types or pastes into parts of a job body. Pure: no DOM. */

export interface JobBody {
  name?: string;
  model: ModelSpec | { keras: unknown };
  training: TrainingSpec;
  dataset: { id: string; limit?: number };
  register?: { name: string };
}

/** "5" → 5; "5, 3" or "5x3" → [5, 3]; anything else is kept as typed, for the API to name the mistake. */
export function parseWindow(text: string): unknown {
  const parts = text
    .trim()
    .split(/\s*[,x×]\s*|\s+/)
    .filter(Boolean);
  if (parts.length === 1 && /^\d+$/.test(parts[0])) return Number(parts[0]);
  if (parts.length === 2 && parts.every((p) => /^\d+$/.test(p))) return parts.map(Number);
  return text.trim();
}

export function formatWindow(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : value === undefined ? '' : String(value);
}

/** A number when the text is one, else the text itself. */
export function parseNumber(text: string): unknown {
  const t = text.trim();
  return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
}

/** A Keras `to_json()` / tfjs `toJSON()` document or model.json, as opposed to the compact spec. */
export function isKerasDocument(v: Record<string, unknown>): boolean {
  return 'class_name' in v || 'modelTopology' in v || ('config' in v && !('layers' in v));
}

/** What was pasted into the JSON tab, as a job body: a whole body, a bare compact model, or a Keras document. */
export function bodyFromJson(value: unknown, current: JobBody): JobBody {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('the JSON must be an object: a job body, a model, or a Keras model document');
  const v = value as Record<string, unknown>;
  if ('model' in v) return v as unknown as JobBody;
  if ('keras' in v) return { ...current, model: v as { keras: unknown } };
  if (isKerasDocument(v)) return { ...current, model: { keras: v } };
  if ('layers' in v || 'input' in v) return { ...current, model: v as unknown as ModelSpec };
  throw new Error('not a job body (no "model"), a model (no "layers") nor a Keras document (no "class_name")');
}

/**
 * Where a located error belongs: `path` itself when it is known, else the
 * nearest enclosing known path (`model.layers[2].kernelSize[1]` →
 * `model.layers[2].kernelSize` → `model.layers[2]` …), or undefined.
 */
export function nearestPath(known: { has(path: string): boolean }, path: string): string | undefined {
  let p = path;
  for (;;) {
    if (known.has(p)) return p;
    const shorter = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
    if (shorter === p || !shorter) return undefined;
    p = shorter;
  }
}
