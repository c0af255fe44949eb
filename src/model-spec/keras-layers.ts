/**
 * Keras layers one by one: each supported class converts to a compact
 * layer spec, or fails naming the Keras layer and what is allowed. The
 * document and graph reading lives in keras-import.ts.
 */
import type { Activation, Initializer, LayerSpec } from './layer-spec.schema.js';
import { show } from './schema-check.js';
import { SpecError } from './spec-error.js';

export type Json = Record<string, unknown>;

/** One entry of the Keras `config.layers` list. */
export interface KerasLayer {
  /** Position in `config.layers`: the number users see in their own document. */
  index: number;
  className: string;
  name: string | undefined;
  config: Json;
  /** JSON pointer of the entry in the submitted document. */
  pointer: string;
}

export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function kerasLabel(layer: KerasLayer): string {
  return layer.name === undefined ? `keras layer ${layer.index} (${layer.className})` : `keras layer ${layer.index} (${layer.className} "${layer.name}")`;
}

export function layerFault(layer: KerasLayer, message: string, field?: string): SpecError {
  return new SpecError(`${kerasLabel(layer)}: ${message}`, {
    layerIndex: layer.index,
    layerType: layer.className,
    layerName: layer.name,
    field,
    path: field === undefined ? layer.pointer : `${layer.pointer}/config/${field}`,
  });
}

export function modelFault(message: string, path?: string, field?: string): SpecError {
  return new SpecError(`keras model: ${message}`, { path, field });
}

// ---------------------------------------------------------------- values

const KERAS_ACTIVATIONS: Record<string, Activation> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  sigmoid: 'sigmoid',
  hardsigmoid: 'hardSigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  softplus: 'softplus',
  softsign: 'softsign',
  swish: 'swish',
  silu: 'swish',
  mish: 'mish',
  gelu: 'gelu',
};
const ACTIVATION_HELP = 'supported: linear, relu, relu6, elu, selu, sigmoid, hard_sigmoid, tanh, softmax, softplus, softsign, swish (silu), mish, gelu';

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

const hasDefaults = (config: Json, defaults: Json) => Object.entries(defaults).every(([k, v]) => config[k] === undefined || config[k] === null || config[k] === v);

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
    case 'glorotuniform':
      return 'glorotUniform';
    case 'glorotnormal':
      return 'glorotNormal';
    case 'heuniform':
      return 'heUniform';
    case 'henormal':
      return 'heNormal';
    case 'lecununiform':
      return 'leCunUniform';
    case 'lecunnormal':
      return 'leCunNormal';
    case 'zeros':
    case 'zero':
      return 'zeros';
    case 'ones':
    case 'one':
      return 'ones';
    case 'constant':
      return config.value === 0 ? 'zeros' : config.value === 1 ? 'ones' : undefined;
    case 'variancescaling':
      return varianceScaling(config);
    // Ours use the tfjs defaults, which are also Keras's: only those map.
    case 'randomuniform':
      return hasDefaults(config, { minval: -0.05, maxval: 0.05 }) ? 'randomUniform' : undefined;
    case 'randomnormal':
      return hasDefaults(config, { mean: 0, stddev: 0.05 }) ? 'randomNormal' : undefined;
    case 'truncatednormal':
      return hasDefaults(config, { mean: 0, stddev: 0.05 }) ? 'truncatedNormal' : undefined;
    default:
      return undefined;
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
export function axisOf(value: unknown): unknown {
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
  'kernel_regularizer',
  'bias_regularizer',
  'activity_regularizer',
  'kernel_constraint',
  'bias_constraint',
  'beta_regularizer',
  'gamma_regularizer',
  'beta_constraint',
  'gamma_constraint',
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
interface PendingPad {
  kind: 'pad';
  padding: Padding4;
}
type Converted = LayerSpec | PendingPad | null;

export const nameOf = (layer: KerasLayer) => (layer.name === undefined ? {} : { name: layer.name });

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
  Convolution2D: 'Conv2D',
  MaxPool2D: 'MaxPooling2D',
  AvgPool2D: 'AveragePooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
};

/** Layer classes the importer reads, for documentation and messages. */
export const SUPPORTED_KERAS_LAYERS: readonly string[] = [...Object.keys(CONVERTERS), 'InputLayer', 'Concatenate'];

const MERGE_CLASSES = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Dot']);
const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

export function unsupported(layer: KerasLayer): SpecError {
  const cls = layer.className;
  if (MERGE_CLASSES.has(cls)) {
    return layerFault(layer, `${cls} merges (e.g. residual connections) are not supported; only a Concatenate on the channel axis can merge branches, as an inception block`);
  }
  if (cls === 'Concatenate') {
    return layerFault(layer, 'a Concatenate must merge two or more branches that all start from the same tensor (an inception block)');
  }
  if (MODEL_CLASSES.has(cls)) return layerFault(layer, "nested models are not supported; put the inner model's layers in the outer model");
  return layerFault(layer, `class ${cls} is not supported; supported: ${SUPPORTED_KERAS_LAYERS.join(', ')}`);
}

/** Tracks the tensor rank (without batch) through a chain, for the axis checks. */
const rankAfter = (spec: LayerSpec, rank: number) => (spec.type === 'flatten' || spec.type === 'globalAvgPool2d' ? 1 : rank);

/** Our layer next to the Keras layer it came from, so later errors can name the latter. */
export interface Traced {
  spec: LayerSpec;
  origin: KerasLayer;
  branches?: Traced[][];
}

export function convertChain(layers: KerasLayer[], rank: number): { traced: Traced[]; rank: number } {
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
