import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { BRANCH_LAYER_SCHEMAS, type BranchLayerSpec } from './layer-spec.schema.js';
import type { InputShape, ModelSpec } from './model-spec.schema.js';
import { planModel } from './planner.js';
import { show } from './schema-check.js';
import { SpecError } from './spec-error.js';
import { axisOf, convertChain, isObject, kerasInitializer, layerFault, modelFault, nameOf, unsupported, type Json, type KerasLayer, type Traced } from './keras-layers.js';

export const KerasModelEnvelopeSchema = Type.Object(
  {
    keras: Type.Union(
      [Type.Object({}, { additionalProperties: true }), Type.String({ minLength: 2, description: 'The same document as a JSON string, as `to_json()` returns it.' })],
      {
        description:
          'A layers-model as Keras or TensorFlow.js serialize it: Keras `model.to_json()` or tfjs `model.toJSON()` ' +
          '(`{ "class_name": "Sequential" | "Functional" | "Model", "config": {...} }`), or a tfjs `model.json` ' +
          'artifact (`{ "modelTopology": {...}, "weightsManifest": [...] }`). Only the architecture is read; weights ' +
          'are not imported. Supported: Sequential models and functional models that are one chain of layers, ' +
          'optionally with inception blocks (branches from one tensor merged by a Concatenate on the channel axis). ' +
          'Layers: Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Dense, Dropout, Activation, ' +
          'BatchNormalization, ReLU, Softmax, ZeroPadding2D (directly before a Conv2D), InputLayer, Concatenate; ' +
          'channels_last only. Initializers without a Trainyard equivalent fall back to the layer default.',
      },
    ),
  },
  {
    additionalProperties: false,
    title: 'KerasModelEnvelope',
    description: 'A model given as Keras / TensorFlow.js layers-model JSON instead of the compact spec; it is converted to that spec.',
  },
);

export type KerasModelEnvelope = Static<typeof KerasModelEnvelopeSchema>;

/** Tells the two accepted forms of `model` apart by the same schema the API validates with. */
export function isKerasEnvelope(x: unknown): x is KerasModelEnvelope {
  return Value.Check(KerasModelEnvelopeSchema, x);
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

interface InputSite {
  shape: InputShape;
  pointer: string;
}

/** `[null, h, w, c]` (Keras / tfjs) or `{ class_name: 'TensorShape', items }` (older Keras metadata). */
function inputShapeOf(config: Json, where: KerasLayer | string): InputSite | undefined {
  const fault = (message: string, field: string) => (typeof where === 'string' ? modelFault(message, `${where}/${field}`, field) : layerFault(where, message, field));
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

interface GraphNode {
  layer: KerasLayer;
  inputs: string[];
}

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
        throw layerFault(
          inner.origin,
          `${inner.origin.className} is not allowed inside an inception branch; branches may contain Conv2D (after an optional ZeroPadding2D), MaxPooling2D, AveragePooling2D, BatchNormalization, Activation, ReLU, Softmax, Dropout`,
        );
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

interface Imported {
  input: InputSite;
  traced: Traced[];
}

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
  const input = inputShapeOf(first.config, first) ?? (isObject(config) ? inputShapeOf(config, `${pointer}/config`) : undefined);
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
      const clean =
        t.spec.name
          .replace(/[^A-Za-z0-9._-]+/g, '_')
          .replace(/^[._-]+/, '')
          .slice(0, 64) || 'layer';
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
  kernelSize: 'kernel_size',
  poolSize: 'pool_size',
  useBias: 'use_bias',
  kernelInitializer: 'kernel_initializer',
  biasInitializer: 'bias_initializer',
  filters: 'filters',
  units: 'units',
  rate: 'rate',
  strides: 'strides',
  padding: 'padding',
  momentum: 'momentum',
  epsilon: 'epsilon',
  activation: 'activation',
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
