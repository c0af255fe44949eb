import { Type, type TSchema } from 'typebox';
import {
  BRANCH_LAYER_SCHEMAS,
  INCEPTION_BASE_PROPERTIES,
  LAYER_DEFAULTS,
  LAYER_SCHEMAS,
  MAX_BRANCHES,
  MAX_BRANCH_LAYERS,
  MIN_BRANCHES,
  type ActivationLayerSpec,
  type AvgPool2dLayerSpec,
  type BatchNormLayerSpec,
  type Conv2dLayerSpec,
  type DenseLayerSpec,
  type DropoutLayerSpec,
  type FlattenLayerSpec,
  type GlobalAvgPool2dLayerSpec,
  type InceptionLayerSpec,
  type LayerType,
  type MaxPool2dLayerSpec,
} from './layer-spec.schema.js';
import { MAX_LAYERS, MODEL_BASE_PROPERTIES, type InputShape } from './model-spec.schema.js';
import { checkSchema } from './schema-check.js';
import { SpecError, layerError, layerLabel, type LayerRef } from './spec-error.js';

export type Pair = [number, number];
/** Explicit zero padding as `[top, bottom, left, right]`. */
export type ExplicitPadding = [number, number, number, number];

type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** All optional fields present, with the listed ones narrowed to their canonical form. */
type Filled<T, Narrowed> = Simplify<Omit<Required<T>, keyof Narrowed> & Narrowed>;

export type NormalizedConv2dLayer = Filled<
  Conv2dLayerSpec,
  {
    kernelSize: Pair;
    strides: Pair;
    padding: 'same' | 'valid' | ExplicitPadding;
  }
>;
export type NormalizedMaxPool2dLayer = Filled<MaxPool2dLayerSpec, { poolSize: Pair; strides: Pair }>;
export type NormalizedAvgPool2dLayer = Filled<AvgPool2dLayerSpec, { poolSize: Pair; strides: Pair }>;
export type NormalizedGlobalAvgPool2dLayer = Filled<GlobalAvgPool2dLayerSpec, Record<never, never>>;
export type NormalizedFlattenLayer = Filled<FlattenLayerSpec, Record<never, never>>;
export type NormalizedDenseLayer = Filled<DenseLayerSpec, Record<never, never>>;
export type NormalizedDropoutLayer = Filled<DropoutLayerSpec, Record<never, never>>;
export type NormalizedActivationLayer = Filled<ActivationLayerSpec, Record<never, never>>;
export type NormalizedBatchNormLayer = Filled<BatchNormLayerSpec, Record<never, never>>;
export type NormalizedBranchLayer =
  | NormalizedConv2dLayer
  | NormalizedMaxPool2dLayer
  | NormalizedAvgPool2dLayer
  | NormalizedBatchNormLayer
  | NormalizedActivationLayer
  | NormalizedDropoutLayer;
export type NormalizedInceptionLayer = Filled<InceptionLayerSpec, { branches: NormalizedBranchLayer[][] }>;
export type NormalizedLayer = NormalizedBranchLayer | NormalizedGlobalAvgPool2dLayer | NormalizedFlattenLayer | NormalizedDenseLayer | NormalizedInceptionLayer;

/**
 * A model spec with every default applied, every size as a pair and every
 * layer named. It is itself a valid ModelSpec, and normalizing it again
 * returns an equal value.
 */
export interface NormalizedModelSpec {
  version: 1;
  input: { shape: InputShape };
  layers: NormalizedLayer[];
}

/** Prefix of generated names, like Keras: `conv2d_1`, `max_pool2d_1`. */
export const NAME_PREFIXES: Record<LayerType, string> = {
  conv2d: 'conv2d',
  maxPool2d: 'max_pool2d',
  avgPool2d: 'avg_pool2d',
  globalAvgPool2d: 'global_avg_pool2d',
  flatten: 'flatten',
  dense: 'dense',
  dropout: 'dropout',
  activation: 'activation',
  batchNorm: 'batch_norm',
  inception: 'inception',
};

// Checked shallowly so each layer can then be validated against exactly the
// variant its `type` names; validating the whole union at once would report
// every variant's complaints.
const ShallowModelSchema = Type.Object(
  {
    ...MODEL_BASE_PROPERTIES,
    layers: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_LAYERS }),
  },
  { additionalProperties: false },
);

const ShallowInceptionSchema = Type.Object(
  {
    ...INCEPTION_BASE_PROPERTIES,
    branches: Type.Array(Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BRANCH_LAYERS }), { minItems: MIN_BRANCHES, maxItems: MAX_BRANCHES }),
  },
  { additionalProperties: false },
);

type RawLayer = Record<string, unknown> & { type: LayerType; name?: string };

interface Visit {
  ref: LayerRef;
  raw: RawLayer;
}

function listTypes(types: readonly string[]): string {
  return types.join(', ');
}

/** Confirms `raw` is an object with a known `type`, then checks it against that variant. */
function checkLayer(raw: unknown, ref: LayerRef, allowed: Readonly<Record<string, TSchema>>, where: string): RawLayer {
  const pointer = ref.parent === undefined ? `/layers/${ref.index}` : `/layers/${ref.parent.index}/branches/${ref.parent.branch}/${ref.index}`;
  const prefix = ref.parent === undefined ? `layer ${ref.index}` : `${where} layer ${ref.index}`;
  const location =
    ref.parent === undefined ? { layerIndex: ref.index, path: pointer } : { layerIndex: ref.parent.index, branch: ref.parent.branch, branchLayerIndex: ref.index, path: pointer };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError(`${prefix}: must be an object with a "type" field`, location);
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string') {
    throw new SpecError(`${prefix}: "type" is required and must be a string`, { ...location, field: 'type', path: `${pointer}/type` });
  }
  if (!Object.hasOwn(allowed, type)) {
    // Worded as the API's schema check words it, so both paths say the same.
    const what = Object.hasOwn(LAYER_SCHEMAS, type) ? `type ${JSON.stringify(type)} is not allowed inside an inception branch` : `type ${JSON.stringify(type)} is not a known type`;
    throw new SpecError(`${prefix}: ${what}; allowed: ${listTypes(Object.keys(allowed))}`, {
      ...location,
      layerType: type,
      field: 'type',
      path: `${pointer}/type`,
    });
  }
  const named = typeof (raw as { name?: unknown }).name === 'string' ? (raw as { name: string }).name : undefined;
  const typedRef: LayerRef = { ...ref, type, userName: named };
  checkSchema(type === 'inception' ? ShallowInceptionSchema : allowed[type], raw, { layer: typedRef, pointer });
  return raw as RawLayer;
}

/** Validates every layer (branches included) and returns them in depth-first order. */
function checkAllLayers(layers: unknown[]): Visit[] {
  const visits: Visit[] = [];
  layers.forEach((rawLayer, index) => {
    const raw = checkLayer(rawLayer, { index, type: '?' }, LAYER_SCHEMAS, '');
    const ref: LayerRef = { index, type: raw.type, userName: raw.name };
    visits.push({ ref, raw });
    if (raw.type !== 'inception') return;
    (raw.branches as unknown[][]).forEach((branch, b) => {
      branch.forEach((inner, i) => {
        const parent = { index, type: raw.type, userName: raw.name, branch: b };
        const innerRaw = checkLayer(inner, { index: i, type: '?', parent }, BRANCH_LAYER_SCHEMAS, `${layerLabel(ref)} branch ${b}`);
        visits.push({ ref: { index: i, type: innerRaw.type, userName: innerRaw.name, parent }, raw: innerRaw });
      });
    });
  });
  return visits;
}

/**
 * Resolves every layer's name: user names must be unique; generated names
 * count unnamed layers per type in depth-first order and skip names the user
 * already took, so a user's `conv2d_2` never collides with a generated one.
 * Returns one name per visit, in visit order (objects are not used as keys:
 * a spec built in code may reuse one layer object in several places).
 */
function assignNames(visits: Visit[]): string[] {
  const taken = new Map<string, LayerRef>();
  for (const { ref, raw } of visits) {
    if (raw.name === undefined) continue;
    const previous = taken.get(raw.name);
    if (previous !== undefined) {
      const where = previous.parent === undefined ? `layer ${previous.index}` : `layer ${previous.parent.index} branch ${previous.parent.branch} layer ${previous.index}`;
      throw layerError(ref, `name "${raw.name}" is already used by ${where}; layer names must be unique`, 'name');
    }
    taken.set(raw.name, ref);
  }
  const used = new Set(taken.keys());
  const counters = new Map<LayerType, number>();
  return visits.map(({ raw }) => {
    if (raw.name !== undefined) return raw.name;
    let n = counters.get(raw.type) ?? 0;
    let candidate: string;
    do {
      n += 1;
      candidate = `${NAME_PREFIXES[raw.type]}_${n}`;
    } while (used.has(candidate));
    counters.set(raw.type, n);
    used.add(candidate);
    return candidate;
  });
}

function pair(value: unknown): Pair {
  return Array.isArray(value) ? [value[0] as number, value[1] as number] : [value as number, value as number];
}

/** `nextName` hands out names in visit order, which is the order `fill` recurses in. */
function fill(raw: RawLayer, nextName: () => string): NormalizedLayer {
  const name = nextName();
  const d = LAYER_DEFAULTS;
  switch (raw.type) {
    case 'conv2d': {
      const r = raw as unknown as Conv2dLayerSpec;
      const p = r.padding ?? d.convPadding;
      return {
        type: 'conv2d',
        name,
        filters: r.filters,
        kernelSize: pair(r.kernelSize),
        strides: pair(r.strides ?? d.strides),
        padding: typeof p === 'number' ? [p, p, p, p] : typeof p === 'string' ? p : [p[0], p[1], p[2], p[3]],
        activation: r.activation ?? d.activation,
        useBias: r.useBias ?? d.useBias,
        kernelInitializer: r.kernelInitializer ?? d.kernelInitializer,
        biasInitializer: r.biasInitializer ?? d.biasInitializer,
      };
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const r = raw as unknown as MaxPool2dLayerSpec | AvgPool2dLayerSpec;
      const poolSize = pair(r.poolSize ?? d.poolSize);
      return {
        type: r.type,
        name,
        poolSize,
        // Keras and the lesson both step a pool by its own size unless told otherwise.
        strides: r.strides === undefined ? [...poolSize] : pair(r.strides),
        padding: r.padding ?? d.poolPadding,
      } as NormalizedMaxPool2dLayer | NormalizedAvgPool2dLayer;
    }
    case 'globalAvgPool2d':
    case 'flatten':
      return { type: raw.type, name };
    case 'dense': {
      const r = raw as unknown as DenseLayerSpec;
      return {
        type: 'dense',
        name,
        units: r.units,
        activation: r.activation ?? d.activation,
        useBias: r.useBias ?? d.useBias,
        kernelInitializer: r.kernelInitializer ?? d.kernelInitializer,
        biasInitializer: r.biasInitializer ?? d.biasInitializer,
      };
    }
    case 'dropout':
      return { type: 'dropout', name, rate: raw.rate as number };
    case 'activation':
      return { type: 'activation', name, activation: raw.activation as NormalizedActivationLayer['activation'] };
    case 'batchNorm': {
      const r = raw as unknown as BatchNormLayerSpec;
      return { type: 'batchNorm', name, momentum: r.momentum ?? d.momentum, epsilon: r.epsilon ?? d.epsilon };
    }
    case 'inception': {
      const branches = (raw.branches as RawLayer[][]).map((branch) => branch.map((inner) => fill(inner, nextName) as NormalizedBranchLayer));
      return { type: 'inception', name, branches };
    }
  }
}

/**
 * Validates a model spec (typed or raw JSON from storage) against the same
 * schema the API uses and returns it with every default applied. Throws
 * SpecError on the first problem. Shape problems are the planner's job.
 */
export function normalizeModelSpec(raw: unknown): NormalizedModelSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError('the model spec must be a JSON object with "input" and "layers"', { path: '' });
  }
  checkSchema(ShallowModelSchema, raw, { pointer: '' });
  const spec = raw as { input: { shape: InputShape }; layers: unknown[] };
  const visits = checkAllLayers(spec.layers);
  const names = assignNames(visits);
  let cursor = 0;
  const nextName = () => names[cursor++];
  return {
    version: 1,
    input: { shape: [...spec.input.shape] as InputShape },
    layers: (spec.layers as RawLayer[]).map((layer) => fill(layer, nextName)),
  };
}
