import { canonicalJson } from '../infra/canonical-json.js';
import { toPointer } from '../model-spec/schema-errors.js';
import type { Distribution, SweepDimension } from '../queue/sweep-document.js';

/**
 * The search space: paths into a job's model and training, what values
 * each distribution can give, and setting those values into a copy of the
 * base job. Pure; whether a value is allowed at a path is left to the spec
 * language's own checks (see trial-document.ts), so a field that the
 * training or model schema learns is searchable at once.
 */

/** Values of the searched paths for one trial: `{"training.learningRate": 0.003, "model.layers[0].filters": 32}`. */
export type TrialParams = Record<string, unknown>;

/** A problem with one dimension of the space; `path` is the searched path it concerns. */
export class SweepSpaceError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'SweepSpaceError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export type DistributionKind = 'uniform' | 'logUniform' | 'intUniform' | 'values';

export function kindOf(d: Distribution): DistributionKind {
  if (d.uniform) return 'uniform';
  if (d.logUniform) return 'logUniform';
  if (d.intUniform) return 'intUniform';
  return 'values';
}

/** A range distribution's [low, high]; undefined for `values`. */
export function rangeOf(d: Distribution): readonly [number, number] | undefined {
  return d.uniform ?? d.logUniform ?? d.intUniform;
}

export type PathRoot = 'model' | 'training';
export type PathSegment = string | number;
export interface SpacePath {
  root: PathRoot;
  /** Below the root: field names and list indices. */
  segments: PathSegment[];
}

const PATH_PATTERN = /^(model|training)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d{1,4}\])+)$/;
const SEGMENT = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d{1,4})\]/g;

/** `model.layers[0].filters` → model, ['layers', 0, 'filters']. */
export function parseSpacePath(path: string): SpacePath {
  const match = PATH_PATTERN.exec(path);
  if (!match) {
    throw new SweepSpaceError(
      path,
      `'${path}' is not a path into the job: write model.<field> or training.<field>, with .<name> for a field and [<n>] for a list item, ` +
        "e.g. 'training.learningRate' or 'model.layers[0].filters'",
    );
  }
  const segments: PathSegment[] = [...match[2].matchAll(SEGMENT)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
  return { root: match[1] as PathRoot, segments };
}

/** JSON pointer of a path inside its root document: `model.layers[0].filters` → `/layers/0/filters`. */
export function pathPointer(path: string): string {
  return toPointer(parseSpacePath(path).segments.map(String));
}

/** `model.layers[0]` for the segments of `model.layers[0].filters` up to `end`. */
function pathName(root: PathRoot, segments: PathSegment[], end: number): string {
  return root + segments.slice(0, end).reduce<string>((out, s) => out + (typeof s === 'number' ? `[${s}]` : `.${s}`), '');
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Sets `value` at `path` in `docs` (changed in place: pass copies). Missing
 * objects on the way are created; a list item that the base does not have
 * is an error, as is a path through a value that is not an object or list.
 */
export function setAtPath(docs: Record<PathRoot, unknown>, path: string, value: unknown): void {
  const { root, segments } = parseSpacePath(path);
  let node: unknown = docs[root];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const last = i === segments.length - 1;
    const here = pathName(root, segments, i);
    if (typeof segment === 'number') {
      if (!Array.isArray(node)) throw new SweepSpaceError(path, `${path}: ${here} is not a list in the base job, so it has no item [${segment}]`);
      if (segment >= node.length) {
        throw new SweepSpaceError(
          path,
          `${path}: ${pathName(root, segments, i + 1)} does not exist: ${here} has ${node.length} item${node.length === 1 ? '' : 's'} in the base job`,
        );
      }
      if (last) node[segment] = value;
      else node = node[segment];
      continue;
    }
    if (!isPlainObject(node)) throw new SweepSpaceError(path, `${path}: ${here} is not an object in the base job, so it has no field '${segment}'`);
    if (last) node[segment] = value;
    else {
      if (node[segment] === undefined) node[segment] = {};
      node = node[segment];
    }
  }
}

/** A copy of the base's model and training with each trial parameter set at its path. */
export function applyParams<M, T>(base: { model: M; training: T }, params: TrialParams): { model: M; training: T } {
  const docs = { model: structuredClone(base.model), training: structuredClone(base.training) } as Record<PathRoot, unknown>;
  for (const [path, value] of Object.entries(params)) setAtPath(docs, path, value);
  return docs as { model: M; training: T };
}

/**
 * Checks what the schema cannot: ranges in order, log ranges above 0,
 * distinct values. Throws SweepSpaceError naming the path.
 */
export function checkDistribution(path: string, d: Distribution): void {
  const kind = kindOf(d);
  const range = rangeOf(d);
  if (range) {
    const [low, high] = range;
    if (!(low < high)) throw new SweepSpaceError(path, `space.${path}.${kind} must be [low, high] with low < high, got [${low}, ${high}]; a fixed value belongs in base`);
    if (kind === 'logUniform' && low <= 0) throw new SweepSpaceError(path, `space.${path}.logUniform must be above 0 (a log scale), got [${low}, ${high}]`);
    return;
  }
  const seen = new Map<string, number>();
  d.values!.forEach((v, i) => {
    const key = canonicalJson(v);
    const earlier = seen.get(key);
    if (earlier !== undefined)
      throw new SweepSpaceError(path, `space.${path}.values must be distinct: item ${i} repeats item ${earlier} (${key.length > 40 ? `${key.slice(0, 37)}...` : key})`);
    seen.set(key, i);
  });
}

/**
 * Values to try at a path when the space is checked: both ends of a range
 * and, for `uniform`/`logUniform`, a value between that is not a whole
 * number (so an integer field refuses them), or every choice.
 */
export function probeValues(d: Distribution): unknown[] {
  const range = rangeOf(d);
  if (!range) return d.values!;
  const [low, high] = range;
  if (d.intUniform) return [low, high];
  const inside = d.logUniform ? Math.exp(Math.log(low) + (Math.log(high) - Math.log(low)) / Math.PI) : low + (high - low) / Math.PI;
  return [low, inside, high];
}

/**
 * The extreme values of a dimension: both ends of a range, or every
 * choice. Sizes, shapes and the work of a job change monotonically with
 * each numeric field (more filters, more parameters; a larger kernel, a
 * smaller output), so the worst case over a box of ranges lies at one of
 * its corners.
 */
export function cornerValues(d: Distribution): unknown[] {
  const range = rangeOf(d);
  return range ? [range[0], range[1]] : d.values!;
}

export function isDiscrete(d: Distribution): boolean {
  return d.values !== undefined || d.intUniform !== undefined;
}

/** How many values a discrete dimension has (undefined for uniform/logUniform). */
export function discreteCount(d: Distribution): number | undefined {
  if (d.values) return d.values.length;
  return d.intUniform ? d.intUniform[1] - d.intUniform[0] + 1 : undefined;
}

/** The k-th value of a discrete dimension, in order, without listing them all (an integer range may be huge). */
export function discreteValueAt(d: Distribution, k: number): unknown {
  return d.values ? d.values[k] : d.intUniform![0] + k;
}

/** Number of points of the cartesian product of `sizes`, or Infinity past 2^53. */
export function productSize(sizes: number[]): number {
  let n = 1;
  for (const s of sizes) {
    n *= s;
    if (n > Number.MAX_SAFE_INTEGER) return Number.POSITIVE_INFINITY;
  }
  return n;
}

/**
 * Combinations of one value list per dimension, at most `limit` of them,
 * the last dimension varying fastest. Returns null when there are more.
 */
export function combinations(space: SweepDimension[], valuesOf: (d: Distribution) => unknown[], limit: number): TrialParams[] | null {
  const lists = space.map((dim) => valuesOf(dim.distribution));
  const sizes = lists.map((l) => l.length);
  const total = productSize(sizes);
  if (total > limit) return null;
  return Array.from({ length: total }, (_, index) => paramsAt(space, sizes, (d, k) => lists[d][k], index));
}

/** The `index`-th point of the product of dimensions of `sizes` values, `valueAt(dimension, k)` giving each (mixed radix, last dimension fastest). */
export function paramsAt(space: SweepDimension[], sizes: number[], valueAt: (dimension: number, k: number) => unknown, index: number): TrialParams {
  const ks: number[] = [];
  let rest = index;
  for (let d = space.length - 1; d >= 0; d--) {
    ks[d] = rest % sizes[d];
    rest = Math.floor(rest / sizes[d]);
  }
  return Object.fromEntries(space.map((dim, d) => [dim.path, valueAt(d, ks[d])]));
}

/** Short text of a trial's parameters for messages: `training.learningRate=0.01, model.layers[0].filters=32`. */
export function describeParams(params: TrialParams): string {
  return Object.entries(params)
    .map(([path, value]) => {
      const text = canonicalJson(value);
      return `${path}=${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
    })
    .join(', ');
}
