import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import {
  BRANCH_LAYER_SCHEMAS,
  type Activation,
  type BranchLayerSpec,
  type Initializer,
  type LayerSpec,
} from './layer-spec.schema.js';
import type { InputShape, ModelSpec } from './model-spec.schema.js';
import { planModel } from './planner.js';
import { show } from './schema-check.js';
import { SpecError } from './spec-error.js';

export const KerasModelEnvelopeSchema = Type.Object({
  keras: Type.Union([
    Type.Object({}, { additionalProperties: true }),
    Type.String({ minLength: 2, description: 'The same document as a JSON string, as `to_json()` returns it.' }),
  ], {
    description:
      'A layers-model as Keras or TensorFlow.js serialize it: Keras `model.to_json()` or tfjs `model.toJSON()` ' +
      '(`{ "class_name": "Sequential" | "Functional" | "Model", "config": {...} }`), or a tfjs `model.json` ' +
      'artifact (`{ "modelTopology": {...}, "weightsManifest": [...] }`). Only the architecture is read; weights ' +
      'are not imported. Supported: Sequential models and functional models that are one chain of layers, ' +
      'optionally with inception blocks (branches from one tensor merged by a Concatenate on the channel axis). ' +
      'Layers: Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Dense, Dropout, Activation, ' +
      'BatchNormalization, ReLU, Softmax, ZeroPadding2D (directly before a Conv2D), InputLayer, Concatenate; ' +
      'channels_last only. Initializers without a Trainyard equivalent fall back to the layer default.',
  }),
}, {
  additionalProperties: false,
  title: 'KerasModelEnvelope',
  description: 'A model given as Keras / TensorFlow.js layers-model JSON instead of the compact spec; it is converted to that spec.',
});

export type KerasModelEnvelope = Static<typeof KerasModelEnvelopeSchema>;

/** Tells the two accepted forms of `model` apart by the same schema the API validates with. */
export function isKerasEnvelope(x: unknown): x is KerasModelEnvelope {
  return Value.Check(KerasModelEnvelopeSchema, x);
}

type Json = Record<string, unknown>;

/** One entry of the Keras `config.layers` list. */
interface KerasLayer {
  /** Position in `config.layers`: the number users see in their own document. */
  index: number;
  className: string;
  name: string | undefined;
  config: Json;
  /** JSON pointer of the entry in the submitted document. */
  pointer: string;
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function kerasLabel(layer: KerasLayer): string {
  return layer.name === undefined
    ? `keras layer ${layer.index} (${layer.className})`
    : `keras layer ${layer.index} (${layer.className} "${layer.name}")`;
}

function layerFault(layer: KerasLayer, message: string, field?: string): SpecError {
  return new SpecError(`${kerasLabel(layer)}: ${message}`, {
    layerIndex: layer.index,
    layerType: layer.className,
    layerName: layer.name,
    field,
    path: field === undefined ? layer.pointer : `${layer.pointer}/config/${field}`,
  });
}

function modelFault(message: string, path?: string, field?: string): SpecError {
  return new SpecError(`keras model: ${message}`, { path, field });
}

// ---------------------------------------------------------------- values

const KERAS_ACTIVATIONS: Record<string, Activation> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu', selu: 'selu', sigmoid: 'sigmoid',
  hardsigmoid: 'hardSigmoid', tanh: 'tanh', softmax: 'softmax', softplus: 'softplus', softsign: 'softsign',
  swish: 'swish', silu: 'swish', mish: 'mish', gelu: 'gelu',
};
const ACTIVATION_HELP =
  'supported: linear, relu, relu6, elu, selu, sigmoid, hard_sigmoid, tanh, softmax, softplus, softsign, swish (silu), mish, gelu';

/** Keras writes `hard_sigmoid`, tfjs `hardSigmoid`; comparing without case and underscores accepts both. */
const looseKey = (s: string) => s.toLowerCase().replace(/_/g, '');

function activationOf(layer: KerasLayer, field = 'activation'): Activation {
  let raw = layer.config[field];
  if (raw === undefined || raw === null) return 'linear';
  // Keras 2.13's serialization wraps built-in functions as { class_name: 'function', config: 'relu' }.
  if (isObject(raw)) raw = typeof raw.config === 'string' ? raw.config : raw.class_name;
  const found = typeof raw === 'string' ? KERAS_ACTIVATIONS[looseKey(raw)] : undefined;
  if (found === undefined) throw layerFault(layer, `activation ${show(raw)} is not supported; ${ACTIVATION_HELP}`, field);
  return found;
}

/** tfjs writes GlorotUniform and friends as VarianceScaling, so that form is matched by its arguments. */
function varianceScaling(config: Json): Initializer | undefined {
  const mode = looseKey(String(config.mode ?? 'fanin'));
  const distribution = looseKey(String(config.distribution ?? 'truncatednormal'));
  const scale = config.scale ?? 1;
  // tfjs samples its 'normal' from a truncated normal, as Keras does for 'truncated_normal'.
  const shape = distribution === 'uniform' ? 'Uniform' : ['normal', 'truncatednormal'].includes(distribution) ? 'Normal' : undefined;
  if (shape === undefined) return undefined;
  if (scale === 1 && mode === 'fanavg') return `glorot${shape}`;
  if (scale === 2 && mode === 'fanin') return `he${shape}`;
  if (scale === 1 && mode === 'fanin') return `leCun${shape}`;
  return undefined;
}

const hasDefaults = (config: Json, defaults: Json) =>
  Object.entries(defaults).every(([k, v]) => config[k] === undefined || config[k] === null || config[k] === v);

/**
 * Maps a Keras or tfjs initializer (a name, `{ class_name, config }` or the
 * Keras 3 `{ module, class_name, config, registered_name }`) to ours.
 * `undefined` means there is no equivalent (Orthogonal, Identity, other
 * arguments than ours...) and the layer default applies. Seeds are dropped:
 * ours come from the training seed.
 */
export function kerasInitializer(raw: unknown): Initializer | undefined {
  const className = typeof raw === 'string' ? raw : isObject(raw) && typeof raw.class_name === 'string' ? raw.class_name : undefined;
  if (className === undefined) return undefined;
  const config = isObject(raw) && isObject(raw.config) ? raw.config : {};
  switch (looseKey(className)) {
    case 'glorotuniform': return 'glorotUniform';
    case 'glorotnormal': return 'glorotNormal';
    case 'heuniform': return 'heUniform';
    case 'henormal': return 'heNormal';
    case 'lecununiform': return 'leCunUniform';
    case 'lecunnormal': return 'leCunNormal';
    case 'zeros': case 'zero': return 'zeros';
    case 'ones': case 'one': return 'ones';
    case 'constant': return config.value === 0 ? 'zeros' : config.value === 1 ? 'ones' : undefined;
    case 'variancescaling': return varianceScaling(config);
    // Ours use the tfjs defaults, which are also Keras's: only those map.
    case 'randomuniform': return hasDefaults(config, { minval: -0.05, maxval: 0.05 }) ? 'randomUniform' : undefined;
    case 'randomnormal': return hasDefaults(config, { mean: 0, stddev: 0.05 }) ? 'randomNormal' : undefined;
    case 'truncatednormal': return hasDefaults(config, { mean: 0, stddev: 0.05 }) ? 'truncatedNormal' : undefined;
    default: return undefined;
  }
}

function initializers(layer: KerasLayer): { kernelInitializer?: Initializer; biasInitializer?: Initializer } {
  const kernel = kerasInitializer(layer.config.kernel_initializer);
  const bias = kerasInitializer(layer.config.bias_initializer);
  return { ...(kernel && { kernelInitializer: kernel }), ...(bias && { biasInitializer: bias }) };
}

/** `n` or `[h, w]`; anything else is passed on for the spec schema to reject with its own wording. */
function windowOf(value: unknown): number | [number, number] {
  if (Array.isArray(value) && value.length === 2) return [value[0], value[1]];
  if (Array.isArray(value) && value.length === 1) return value[0];
  return value as number;
}

function isOne(value: unknown): boolean {
  return value === undefined || value === null || value === 1 || (Array.isArray(value) && value.every((v) => v === 1));
}

/** A single axis, written as a number or (Keras 2 after building) a one-element list. */
function axisOf(value: unknown): unknown {
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

function requireChannelsLast(layer: KerasLayer): void {
  const format = layer.config.data_format;
  if (format !== undefined && format !== null && format !== 'channels_last') {
    throw layerFault(layer, `data_format ${show(format)} is not supported; use channels_last`, 'data_format');
  }
}

function paddingMode(layer: KerasLayer): 'same' | 'valid' {
  const raw = layer.config.padding ?? 'valid';
  const mode = typeof raw === 'string' ? raw.toLowerCase() : raw;
  if (mode !== 'same' && mode !== 'valid') throw layerFault(layer, `padding ${show(raw)} is not supported; use 'same' or 'valid'`, 'padding');
  return mode;
}

/**
 * Fields that would change what is trained. Silently dropping them would
 * train a different model than the one submitted, so they are refused.
 */
const TRAINING_ONLY_FIELDS = [
  'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint',
  'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint',
];

function checkCommon(layer: KerasLayer): void {
  if (layer.config.trainable === false) {
    throw layerFault(layer, 'trainable: false is not supported; every layer is trained from fresh weights', 'trainable');
  }
  for (const field of TRAINING_ONLY_FIELDS) {
    const value = layer.config[field];
    if (value !== undefined && value !== null) {
      throw layerFault(layer, `${field} is not supported; remove it (Trainyard trains without regularizers or constraints)`, field);
    }
  }
  // Keras 3 LoRA adapters only make sense for fine-tuning pretrained weights.
  if (layer.config.lora_rank !== undefined && layer.config.lora_rank !== null && layer.config.lora_rank !== 0) {
    throw layerFault(layer, 'lora_rank is not supported; remove it', 'lora_rank');
  }
}

// ---------------------------------------------------------------- layers

type Padding4 = [number, number, number, number];
/** A ZeroPadding2D, held until the Conv2D it belongs to. */
interface PendingPad { kind: 'pad'; padding: Padding4 }
type Converted = LayerSpec | PendingPad | null;

const nameOf = (layer: KerasLayer) => (layer.name === undefined ? {} : { name: layer.name });

function conv2d(layer: KerasLayer): Converted {
  const c = layer.config;
  requireChannelsLast(layer);
  if (!isOne(c.dilation_rate)) throw layerFault(layer, `dilation_rate ${show(c.dilation_rate)} is not supported; it must be 1`, 'dilation_rate');
  if (!isOne(c.groups)) throw layerFault(layer, `groups ${show(c.groups)} is not supported; it must be 1`, 'groups');
  return {
    type: 'conv2d',
    ...nameOf(layer),
    filters: c.filters as number,
    kernelSize: windowOf(c.kernel_size),
    strides: windowOf(c.strides ?? 1),
    padding: paddingMode(layer),
    activation: activationOf(layer),
    useBias: (c.use_bias ?? true) as boolean,
    ...initializers(layer),
  };
}

function pool(type: 'maxPool2d' | 'avgPool2d') {
  return (layer: KerasLayer): Converted => {
    requireChannelsLast(layer);
    const c = layer.config;
    return {
      type,
      ...nameOf(layer),
      poolSize: windowOf(c.pool_size ?? 2),
      ...(c.strides === undefined || c.strides === null ? {} : { strides: windowOf(c.strides) }),
      padding: paddingMode(layer),
    };
  };
}

function zeroPadding(layer: KerasLayer): Converted {
  requireChannelsLast(layer);
  const p = layer.config.padding ?? 1;
  const ints = (...v: unknown[]) => v.every((x) => Number.isInteger(x));
  if (typeof p === 'number' && ints(p)) return { kind: 'pad', padding: [p, p, p, p] };
  if (Array.isArray(p) && p.length === 2 && ints(...p)) return { kind: 'pad', padding: [p[0], p[0], p[1], p[1]] };
  if (Array.isArray(p) && p.length === 2 && p.every((a) => Array.isArray(a) && a.length === 2 && ints(...a))) {
    return { kind: 'pad', padding: [p[0][0], p[0][1], p[1][0], p[1][1]] };
  }
  throw layerFault(layer, `padding ${show(p)} must be n, [rows, cols] or [[top, bottom], [left, right]]`, 'padding');
}

function batchNorm(layer: KerasLayer, rank: number): Converted {
  const c = layer.config;
  const axis = axisOf(c.axis ?? -1);
  if (axis !== -1 && axis !== rank) {
    throw layerFault(layer, `axis ${show(c.axis)} is not supported; only the last axis (-1 or ${rank}) is normalized`, 'axis');
  }
  for (const field of ['center', 'scale'] as const) {
    if (c[field] === false) throw layerFault(layer, `${field}: false is not supported; gamma and beta are always learned`, field);
  }
  if (c.renorm === true) throw layerFault(layer, 'renorm is not supported', 'renorm');
  if (c.virtual_batch_size !== undefined && c.virtual_batch_size !== null) {
    throw layerFault(layer, 'virtual_batch_size is not supported', 'virtual_batch_size');
  }
  return {
    type: 'batchNorm',
    ...nameOf(layer),
    ...(c.momentum === undefined ? {} : { momentum: c.momentum as number }),
    ...(c.epsilon === undefined ? {} : { epsilon: c.epsilon as number }),
  };
}

function relu(layer: KerasLayer): Converted {
  const c = layer.config;
  for (const field of ['negative_slope', 'alpha', 'threshold'] as const) {
    if (c[field] !== undefined && c[field] !== null && c[field] !== 0) {
      throw layerFault(layer, `${field} ${show(c[field])} is not supported; it must be 0`, field);
    }
  }
  const max = c.max_value ?? null;
  if (max !== null && max !== 6) throw layerFault(layer, `max_value ${show(max)} is not supported; use none (relu) or 6 (relu6)`, 'max_value');
  return { type: 'activation', ...nameOf(layer), activation: max === 6 ? 'relu6' : 'relu' };
}

function softmax(layer: KerasLayer, rank: number): Converted {
  // tfjs's Softmax layer defaults to axis 1, which is the last axis only for a flat input.
  const axis = axisOf(layer.config.axis ?? -1);
  if (axis !== -1 && axis !== rank) {
    throw layerFault(layer, `axis ${show(layer.config.axis)} is not supported; softmax runs over the last axis (-1 or ${rank})`, 'axis');
  }
  return { type: 'activation', ...nameOf(layer), activation: 'softmax' };
}

const CONVERTERS: Record<string, (layer: KerasLayer, rank: number) => Converted> = {
  Conv2D: conv2d,
  MaxPooling2D: pool('maxPool2d'),
  AveragePooling2D: pool('avgPool2d'),
  GlobalAveragePooling2D: (layer) => {
    requireChannelsLast(layer);
    if (layer.config.keepdims === true) throw layerFault(layer, 'keepdims: true is not supported', 'keepdims');
    return { type: 'globalAvgPool2d', ...nameOf(layer) };
  },
  Flatten: (layer, rank) => {
    requireChannelsLast(layer);
    // Flattening a flat tensor is a no-op in Keras but an error in a spec.
    return rank === 1 ? null : { type: 'flatten', ...nameOf(layer) };
  },
  Dense: (layer) => ({
    type: 'dense',
    ...nameOf(layer),
    units: layer.config.units as number,
    activation: activationOf(layer),
    useBias: (layer.config.use_bias ?? true) as boolean,
    ...initializers(layer),
  }),
  Dropout: (layer) => {
    const noise = layer.config.noise_shape;
    if (noise !== undefined && noise !== null) throw layerFault(layer, 'noise_shape is not supported', 'noise_shape');
    return { type: 'dropout', ...nameOf(layer), rate: layer.config.rate as number };
  },
  Activation: (layer) => ({ type: 'activation', ...nameOf(layer), activation: activationOf(layer) }),
  BatchNormalization: batchNorm,
  ZeroPadding2D: zeroPadding,
  ReLU: relu,
  Softmax: softmax,
};
const ALIASES: Record<string, string> = {
  Convolution2D: 'Conv2D', MaxPool2D: 'MaxPooling2D', AvgPool2D: 'AveragePooling2D', GlobalAvgPool2D: 'GlobalAveragePooling2D',
};

/** Layer classes the importer reads, for documentation and messages. */
export const SUPPORTED_KERAS_LAYERS: readonly string[] = [...Object.keys(CONVERTERS), 'InputLayer', 'Concatenate'];

const MERGE_CLASSES = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Dot']);
const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

function unsupported(layer: KerasLayer): SpecError {
  const cls = layer.className;
  if (MERGE_CLASSES.has(cls)) {
    return layerFault(layer, `${cls} merges (e.g. residual connections) are not supported; only a Concatenate on the channel axis can merge branches, as an inception block`);
  }
  if (cls === 'Concatenate') {
    return layerFault(layer, 'a Concatenate must merge two or more branches that all start from the same tensor (an inception block)');
  }
  if (MODEL_CLASSES.has(cls)) return layerFault(layer, 'nested models are not supported; put the inner model\'s layers in the outer model');
  return layerFault(layer, `class ${cls} is not supported; supported: ${SUPPORTED_KERAS_LAYERS.join(', ')}`);
}

/** Tracks the tensor rank (without batch) through a chain, for the axis checks. */
const rankAfter = (spec: LayerSpec, rank: number) => (spec.type === 'flatten' || spec.type === 'globalAvgPool2d' ? 1 : rank);

/** Our layer next to the Keras layer it came from, so later errors can name the latter. */
interface Traced { spec: LayerSpec; origin: KerasLayer; branches?: Traced[][] }

function convertChain(layers: KerasLayer[], rank: number): { traced: Traced[]; rank: number } {
  const traced: Traced[] = [];
  let pad: { origin: KerasLayer; padding: Padding4 } | undefined;
  for (const layer of layers) {
    checkCommon(layer);
    const convert = CONVERTERS[ALIASES[layer.className] ?? layer.className];
    if (convert === undefined) throw unsupported(layer);
    const out = convert(layer, rank);
    if (pad !== undefined) {
      if (out === null || 'kind' in out || out.type !== 'conv2d' || out.padding !== 'valid') {
        throw layerFault(pad.origin, "ZeroPadding2D is only supported directly before a Conv2D with padding 'valid'");
      }
      out.padding = pad.padding;
      pad = undefined;
    }
    if (out === null) continue;
    if ('kind' in out) {
      pad = { origin: layer, padding: out.padding };
      continue;
    }
    // A field Keras left out is left out here too, so the spec schema says "is required" rather than "got undefined".
    const spec = Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as LayerSpec;
    traced.push({ spec, origin: layer });
    rank = rankAfter(spec, rank);
  }
  if (pad !== undefined) throw layerFault(pad.origin, "ZeroPadding2D is only supported directly before a Conv2D with padding 'valid'");
  return { traced, rank };
}

// ---------------------------------------------------------------- documents

function parseLayers(list: unknown, pointer: string): KerasLayer[] {
  if (!Array.isArray(list) || list.length === 0) throw modelFault('config.layers must be a non-empty list of layers', pointer);
  return list.map((entry, index) => {
    const at = `${pointer}/${index}`;
    if (!isObject(entry) || typeof entry.class_name !== 'string') {
      throw new SpecError(`keras layer ${index}: must be an object with "class_name" and "config"`, { layerIndex: index, path: at });
    }
    const config = isObject(entry.config) ? entry.config : {};
    const name = typeof entry.name === 'string' ? entry.name : typeof config.name === 'string' ? config.name : undefined;
    return { index, className: entry.class_name, name, config, pointer: at };
  });
}

interface InputSite { shape: InputShape; pointer: string }

/** `[null, h, w, c]` (Keras / tfjs) or `{ class_name: 'TensorShape', items }` (older Keras metadata). */
function inputShapeOf(config: Json, where: KerasLayer | string): InputSite | undefined {
  const fault = (message: string, field: string) =>
    (typeof where === 'string' ? modelFault(message, `${where}/${field}`, field) : layerFault(where, message, field));
  const field = ['batch_shape', 'batch_input_shape', 'input_shape', 'build_input_shape'].find((f) => config[f] != null);
  if (field === undefined) return undefined;
  const pointer = typeof where === 'string' ? `${where}/${field}` : `${where.pointer}/config/${field}`;
  let raw = config[field];
  if (isObject(raw) && Array.isArray(raw.items)) raw = raw.items;
  if (!Array.isArray(raw)) throw fault(`${field} must be a list, got ${show(raw)}`, field);
  const dims = field === 'input_shape' ? raw : raw.slice(1);
  const written = show(raw);
  if (dims.some((d) => d === null)) throw fault(`input shape ${written} has unknown (null) sizes; every size but the batch must be fixed`, field);
  if (dims.length === 2) {
    throw fault(`input shape ${written} has no channel axis; give images a channel axis, e.g. [null, ${dims[0]}, ${dims[1]}, 1]`, field);
  }
  if (dims.length !== 1 && dims.length !== 3) {
    throw fault(`input shape ${written} is not supported; use [null, height, width, channels] or [null, features]`, field);
  }
  return { shape: dims as InputShape, pointer };
}

/** Tensor references in any serialization: `[name, node, tensor, kwargs?]` (Keras 2, tfjs) or Keras 3 `__keras_tensor__`. */
function collectRefs(value: unknown, out: [string, unknown, unknown][] = []): [string, unknown, unknown][] {
  if (Array.isArray(value)) {
    if (typeof value[0] === 'string' && typeof value[1] === 'number') out.push([value[0], value[1], value[2]]);
    else value.forEach((v) => collectRefs(v, out));
  } else if (isObject(value)) {
    const history = isObject(value.config) ? value.config.keras_history : undefined;
    if (value.class_name === '__keras_tensor__' && Array.isArray(history)) out.push([String(history[0]), history[1], history[2]]);
    else Object.values(value).forEach((v) => collectRefs(v, out));
  }
  return out;
}

interface GraphNode { layer: KerasLayer; inputs: string[] }

function readGraph(layers: KerasLayer[], raw: unknown[]): Map<string, GraphNode> {
  const nodes = new Map<string, GraphNode>();
  for (const layer of layers) {
    if (layer.name === undefined) throw layerFault(layer, 'a functional model\'s layers need a "name"');
    if (nodes.has(layer.name)) throw layerFault(layer, `name "${layer.name}" is used by two layers`);
    nodes.set(layer.name, { layer, inputs: [] });
  }
  for (const node of nodes.values()) {
    const inbound = (raw[node.layer.index] as Json).inbound_nodes ?? [];
    if (!Array.isArray(inbound)) throw layerFault(node.layer, 'inbound_nodes must be a list');
    if (inbound.length > 1) {
      throw layerFault(node.layer, `is called ${inbound.length} times; shared layers are not supported, each layer must be used once`);
    }
    node.inputs = collectRefs(inbound[0] ?? []).map(([name, nodeIndex, tensorIndex]) => {
      if (!nodes.has(name)) throw layerFault(node.layer, `takes input from "${name}", which is not a layer of this model`);
      if ((nodeIndex ?? 0) !== 0 || (tensorIndex ?? 0) !== 0) {
        throw layerFault(node.layer, `takes output ${String(tensorIndex)} of call ${String(nodeIndex)} of "${name}"; shared and multi-output layers are not supported`);
      }
      return name;
    });
  }
  return nodes;
}

type Item = { layer: KerasLayer } | { merge: KerasLayer; branches: KerasLayer[][] };

/**
 * Walks from the input to the output. Every tensor must feed one layer,
 * except at an inception block: a tensor feeding several chains that all
 * end in the same Concatenate. Anything else (residual adds, second
 * outputs, nested forks) is reported at the layer where it happens.
 */
function linearize(nodes: Map<string, GraphNode>, inputName: string, outputName: string): Item[] {
  const consumers = new Map<string, string[]>();
  for (const node of nodes.values()) {
    for (const from of node.inputs) consumers.set(from, [...(consumers.get(from) ?? []), node.layer.name!]);
  }
  // Found here rather than mid-walk, where the walk would stop at the
  // output and blame it instead of the layer whose result goes nowhere.
  for (const node of nodes.values()) {
    if (node.inputs.length > 0 && node.layer.name !== outputName && !consumers.has(node.layer.name!)) {
      throw layerFault(node.layer, `its output is used by no layer and it is not the model output "${outputName}"; models must have exactly one output`);
    }
  }
  const visited = new Set([inputName]);
  const visit = (node: GraphNode) => {
    if (visited.has(node.layer.name!)) throw layerFault(node.layer, 'is reached twice; the layer graph has a cycle');
    visited.add(node.layer.name!);
  };
  const items: Item[] = [];
  let current = inputName;
  while (current !== outputName) {
    const next = (consumers.get(current) ?? []).map((n) => nodes.get(n)!);
    if (next.length === 0) throw layerFault(nodes.get(current)!.layer, `is not connected to the output layer "${outputName}"`);
    if (next.length === 1 && next[0].inputs.length === 1) {
      visit(next[0]);
      items.push({ layer: next[0].layer });
      current = next[0].layer.name!;
      continue;
    }
    if (next.length === 1) throw unsupported(next[0].layer);
    const block = followBranches(current, next, consumers, nodes, visit);
    items.push(block);
    current = block.merge.name!;
  }
  for (const node of nodes.values()) {
    if (!visited.has(node.layer.name!)) {
      throw layerFault(node.layer, `is not on the path from the input to the output "${outputName}"; only single-input, single-output models are supported`);
    }
  }
  return items;
}

function followBranches(
  fork: string,
  starts: GraphNode[],
  consumers: Map<string, string[]>,
  nodes: Map<string, GraphNode>,
  visit: (node: GraphNode) => void,
): { merge: KerasLayer; branches: KerasLayer[][] } {
  const chains: { layers: KerasLayer[]; merge: GraphNode }[] = [];
  for (const start of starts) {
    const layers: KerasLayer[] = [];
    let node = start;
    while (node.inputs.length === 1) {
      visit(node);
      layers.push(node.layer);
      const after = consumers.get(node.layer.name!) ?? [];
      if (after.length === 0) throw layerFault(node.layer, 'is the model output but sits inside a branch; branches must meet in a Concatenate before the output');
      if (after.length > 1) throw layerFault(node.layer, 'forks again inside a branch; nested branches are not supported');
      node = nodes.get(after[0])!;
    }
    chains.push({ layers, merge: node });
  }
  const merge = chains[0].merge;
  const stray = chains.find((c) => c.merge !== merge);
  if (stray !== undefined) throw unsupported(stray.merge.layer);
  if (merge.layer.className !== 'Concatenate') throw unsupported(merge.layer);
  const axis = axisOf(merge.layer.config.axis ?? -1);
  if (axis !== -1 && axis !== 3) {
    throw layerFault(merge.layer, `axis ${show(merge.layer.config.axis)} is not supported; branches are concatenated on the channel axis (-1 or 3)`, 'axis');
  }
  if (chains.some((c) => c.layers.length === 0)) {
    throw layerFault(merge.layer, `takes "${fork}" directly; every branch of an inception block needs at least one layer`);
  }
  if (merge.inputs.length !== chains.length) throw unsupported(merge.layer);
  visit(merge);
  // The Concatenate's input order is the channel order; keep it.
  const branches = merge.inputs.map((input) => chains.find((c) => c.layers.at(-1)!.name === input)!.layers);
  return { merge: merge.layer, branches };
}

function toTraced(items: Item[], inputRank: number): Traced[] {
  const traced: Traced[] = [];
  let rank = inputRank;
  let chain: KerasLayer[] = [];
  const flush = () => {
    const converted = convertChain(chain, rank);
    traced.push(...converted.traced);
    rank = converted.rank;
    chain = [];
  };
  for (const item of items) {
    if ('layer' in item) {
      chain.push(item.layer);
      continue;
    }
    flush();
    const branches = item.branches.map((layers) => convertChain(layers, rank).traced);
    for (const inner of branches.flat()) {
      if (!Object.hasOwn(BRANCH_LAYER_SCHEMAS, inner.spec.type)) {
        throw layerFault(inner.origin, `${inner.origin.className} is not allowed inside an inception branch; branches may contain Conv2D (after an optional ZeroPadding2D), MaxPooling2D, AveragePooling2D, BatchNormalization, Activation, ReLU, Softmax, Dropout`);
      }
    }
    traced.push({
      spec: { type: 'inception', ...nameOf(item.merge), branches: branches.map((b) => b.map((t) => t.spec as BranchLayerSpec)) },
      origin: item.merge,
      branches,
    });
  }
  flush();
  return traced;
}

interface Imported { input: InputSite; traced: Traced[] }

function sequential(config: unknown, pointer: string): Imported {
  // Keras 2.0-2.2 wrote a Sequential's config as the bare list of layers.
  const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  const layersPointer = Array.isArray(config) ? `${pointer}/config` : `${pointer}/config/layers`;
  const layers = parseLayers(list, layersPointer);
  const [first] = layers;
  const body = first.className === 'InputLayer' ? layers.slice(1) : layers;
  const misplaced = body.find((l) => l.className === 'InputLayer');
  if (misplaced !== undefined) throw layerFault(misplaced, 'an InputLayer may only be the first layer');
  if (body.length === 0) throw modelFault('the model has no layers besides its input', layersPointer);
  const input = inputShapeOf(first.config, first)
    ?? (isObject(config) ? inputShapeOf(config, `${pointer}/config`) : undefined);
  if (input === undefined) {
    throw modelFault('no input shape; start with an InputLayer or give the first layer batch_input_shape (Keras 2) or batch_shape (Keras 3)', layersPointer);
  }
  return { input, traced: convertChain(body, input.shape.length).traced };
}

function functional(config: unknown, pointer: string): Imported {
  if (!isObject(config)) throw modelFault('config must be an object', `${pointer}/config`);
  const layers = parseLayers(config.layers, `${pointer}/config/layers`);
  const nodes = readGraph(layers, config.layers as unknown[]);
  const ends = (field: 'input_layers' | 'output_layers', what: string) => {
    const refs = collectRefs(config[field]);
    if (refs.length !== 1) {
      const names = refs.map(([n]) => `"${n}"`).join(', ');
      throw modelFault(`${refs.length} ${what}s (${names}); only models with one ${what} are supported`, `${pointer}/config/${field}`, field);
    }
    const node = nodes.get(refs[0][0]);
    if (node === undefined) throw modelFault(`${field} names "${refs[0][0]}", which is not a layer of this model`, `${pointer}/config/${field}`, field);
    return node;
  };
  const input = ends('input_layers', 'input');
  const output = ends('output_layers', 'output');
  if (input.layer.className !== 'InputLayer') throw layerFault(input.layer, 'is listed in input_layers but is not an InputLayer');
  const site = inputShapeOf(input.layer.config, input.layer);
  if (site === undefined) throw layerFault(input.layer, 'has no batch_shape (Keras 3) or batch_input_shape (Keras 2, tfjs)');
  if (input === output) throw modelFault('the model has no layers besides its input');
  return { input: site, traced: toTraced(linearize(nodes, input.layer.name!, output.layer.name!), site.shape.length) };
}

/** Finds the `{ class_name, config }` model in a string, a Keras document or a tfjs artifact. */
function locateModel(json: unknown): { model: Json; pointer: string } {
  let doc = json;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch (err) {
      throw modelFault(`not valid JSON (${(err as Error).message})`, '');
    }
  }
  if (!isObject(doc)) throw modelFault('expected a Keras model JSON object ({ class_name, config }) or a tfjs model.json ({ modelTopology })', '');
  let pointer = '';
  if (doc.modelTopology !== undefined) {
    pointer = '/modelTopology';
    doc = doc.modelTopology;
    // tfjs_converter output for Keras HDF5 files nests the model one level deeper.
    if (isObject(doc) && isObject(doc.model_config)) {
      pointer += '/model_config';
      doc = doc.model_config;
    }
    if (!isObject(doc)) throw modelFault('modelTopology must be an object', pointer);
  }
  if (typeof doc.class_name !== 'string') {
    throw modelFault(`expected "class_name" (Sequential, Functional or Model) and "config"; got fields ${Object.keys(doc).join(', ') || 'none'}`, pointer);
  }
  return { model: doc, pointer };
}

/** Assigns spec names: Keras names where they fit our pattern, a cleaned-up unique variant otherwise. */
function renameAll(traced: Traced[]): void {
  const taken = new Set<string>();
  const claim = (t: Traced) => {
    if (t.spec.name !== undefined) {
      const clean = t.spec.name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, 64) || 'layer';
      let name = clean;
      for (let n = 2; taken.has(name); n++) name = `${clean.slice(0, 58)}_${n}`;
      taken.add(name);
      t.spec.name = name;
    }
    t.branches?.forEach((branch) => branch.forEach(claim));
  };
  traced.forEach(claim);
}

/** Our field names back to Keras's, for errors the spec validation raises. */
const KERAS_FIELDS: Record<string, string> = {
  kernelSize: 'kernel_size', poolSize: 'pool_size', useBias: 'use_bias', kernelInitializer: 'kernel_initializer',
  biasInitializer: 'bias_initializer', filters: 'filters', units: 'units', rate: 'rate', strides: 'strides',
  padding: 'padding', momentum: 'momentum', epsilon: 'epsilon', activation: 'activation',
};
const OUR_LABEL = /^layer \d+(?: \([^)]*\))?(?: branch \d+ layer \d+(?: \([^)]*\))?)?: /;

/** Re-labels a SpecError about the converted spec with the Keras layer it came from. */
function relabel(err: SpecError, { input, traced }: Imported): SpecError {
  if (err.layerIndex === undefined) {
    return modelFault(err.message, err.field?.startsWith('input.shape') ? input.pointer : undefined, err.field);
  }
  const outer = traced[err.layerIndex];
  const inner = err.branch === undefined || err.branchLayerIndex === undefined ? undefined : outer?.branches?.[err.branch]?.[err.branchLayerIndex];
  const origin = (inner ?? outer)?.origin;
  if (origin === undefined) return modelFault(err.message, undefined, err.field);
  const field = err.field === undefined ? undefined : KERAS_FIELDS[err.field];
  let message = err.message.replace(OUR_LABEL, '');
  if (err.field !== undefined && field !== undefined) message = message.replace(new RegExp(`^${err.field}\\b`), field);
  return layerFault(origin, message, field);
}

/**
 * Converts a Keras / tfjs layers-model JSON (an object or its JSON string:
 * Keras `model.to_json()`, tfjs `model.toJSON()`, or a tfjs `model.json`
 * with `modelTopology`) to the compact ModelSpec, then validates and plans
 * it so that every problem is reported against the Keras layer it came
 * from. Only the architecture is read: weights, training config, dtypes and
 * initializer seeds are ignored, and initializers without an equivalent
 * fall back to the layer default (see {@link kerasInitializer}).
 * Throws SpecError; its `layerIndex` is the index in the Keras `layers`
 * list and `path` a JSON pointer into the Keras document.
 */
export function importKerasModel(json: unknown): ModelSpec {
  const { model, pointer } = locateModel(json);
  let result: Imported;
  if (model.class_name === 'Sequential') result = sequential(model.config, pointer);
  else if (model.class_name === 'Functional' || model.class_name === 'Model') result = functional(model.config, pointer);
  else throw modelFault(`class_name ${show(model.class_name)} is not a model; expected Sequential, Functional or Model`, `${pointer}/class_name`, 'class_name');
  renameAll(result.traced);
  const spec: ModelSpec = { version: 1, input: { shape: result.input.shape }, layers: result.traced.map((t) => t.spec) };
  try {
    planModel(spec, { maxParams: Infinity, maxMacs: Infinity });
  } catch (err) {
    throw err instanceof SpecError ? relabel(err, result) : err;
  }
  return spec;
}

/**
 * The compact spec for a submitted `model` field, which is either a spec or
 * a `{ keras }` envelope. Error paths of an imported model start at `/keras`.
 */
export function resolveModelSpec(model: ModelSpec | KerasModelEnvelope): ModelSpec {
  if (!isKerasEnvelope(model)) return model;
  try {
    return importKerasModel(model.keras);
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    const { code: _code, message, ...location } = err.toJSON();
    throw new SpecError(message, { ...location, path: location.path === undefined ? undefined : `/keras${location.path}` });
  }
}
