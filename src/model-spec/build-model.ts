import * as tf from '@tensorflow/tfjs';
import type { Initializer } from './layer-spec.schema.js';
import type { ModelSpec } from './model-spec.schema.js';
import { normalizeModelSpec, type NormalizedBranchLayer, type NormalizedLayer, type NormalizedModelSpec } from './model-spec.normalizer.js';
import { planModel } from './planner.js';

export interface BuildModelOptions {
  /**
   * Seeds every weight initializer, so the same spec and seed give the same
   * initial weights. Omitted: tfjs's unseeded randomness.
   */
  seed?: number;
}

type TfInitializer = ReturnType<typeof tf.initializers.zeros>;

/**
 * FNV-1a: a per-layer seed from the run seed and the layer name. One shared
 * seed would give every same-shaped kernel identical values (e.g. the 1x1
 * convolutions of an inception module), which training cannot break apart.
 */
function deriveSeed(seed: number, name: string, role: string): number {
  let hash = 0x811c9dc5;
  for (const ch of `${seed}:${name}:${role}`) {
    hash ^= ch.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function makeInitializer(id: Initializer, seed: number | undefined): TfInitializer {
  const args = { seed };
  switch (id) {
    case 'glorotUniform':
      return tf.initializers.glorotUniform(args);
    case 'glorotNormal':
      return tf.initializers.glorotNormal(args);
    case 'heUniform':
      return tf.initializers.heUniform(args);
    case 'heNormal':
      return tf.initializers.heNormal(args);
    case 'leCunUniform':
      return tf.initializers.leCunUniform(args);
    case 'leCunNormal':
      return tf.initializers.leCunNormal(args);
    case 'randomUniform':
      return tf.initializers.randomUniform(args);
    case 'randomNormal':
      return tf.initializers.randomNormal(args);
    case 'truncatedNormal':
      return tf.initializers.truncatedNormal(args);
    case 'zeros':
      return tf.initializers.zeros();
    case 'ones':
      return tf.initializers.ones();
  }
}

class LayerFactory {
  private readonly used: Set<string>;

  constructor(
    names: Iterable<string>,
    private readonly seed: number | undefined,
  ) {
    this.used = new Set(names);
  }

  /** A name for a helper layer the spec does not list, avoiding every spec name. */
  helperName(base: string): string {
    let name = base;
    for (let n = 2; this.used.has(name); n++) name = `${base}_${n}`;
    this.used.add(name);
    return name;
  }

  private init(id: Initializer, layerName: string, role: 'kernel' | 'bias'): TfInitializer {
    return makeInitializer(id, this.seed === undefined ? undefined : deriveSeed(this.seed, layerName, role));
  }

  apply(layer: NormalizedLayer, x: tf.SymbolicTensor): tf.SymbolicTensor {
    const { name } = layer;
    switch (layer.type) {
      case 'conv2d': {
        let input = x;
        let padding: 'same' | 'valid';
        if (typeof layer.padding === 'string') {
          padding = layer.padding;
        } else {
          // tfjs convolutions only know 'same'/'valid'; explicit zeros come
          // from a separate layer, after which 'valid' gives the lesson's formula.
          const [top, bottom, left, right] = layer.padding;
          padding = 'valid';
          if (top + bottom + left + right > 0) {
            input = tf.layers
              .zeroPadding2d({
                padding: [
                  [top, bottom],
                  [left, right],
                ],
                name: this.helperName(`${name}_pad`),
              })
              .apply(x) as tf.SymbolicTensor;
          }
        }
        return tf.layers
          .conv2d({
            name,
            filters: layer.filters,
            kernelSize: layer.kernelSize,
            strides: layer.strides,
            padding,
            activation: layer.activation,
            useBias: layer.useBias,
            kernelInitializer: this.init(layer.kernelInitializer, name, 'kernel'),
            biasInitializer: this.init(layer.biasInitializer, name, 'bias'),
          })
          .apply(input) as tf.SymbolicTensor;
      }
      case 'maxPool2d':
      case 'avgPool2d': {
        const args = { name, poolSize: layer.poolSize, strides: layer.strides, padding: layer.padding };
        const pool = layer.type === 'maxPool2d' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
        return pool.apply(x) as tf.SymbolicTensor;
      }
      case 'globalAvgPool2d':
        return tf.layers.globalAveragePooling2d({ name }).apply(x) as tf.SymbolicTensor;
      case 'flatten':
        return tf.layers.flatten({ name }).apply(x) as tf.SymbolicTensor;
      case 'dense':
        return tf.layers
          .dense({
            name,
            units: layer.units,
            activation: layer.activation,
            useBias: layer.useBias,
            kernelInitializer: this.init(layer.kernelInitializer, name, 'kernel'),
            biasInitializer: this.init(layer.biasInitializer, name, 'bias'),
          })
          .apply(x) as tf.SymbolicTensor;
      case 'dropout':
        // Deliberately unseeded: tfjs re-seeds a seeded dropout on every call,
        // which would drop the same units in every batch.
        return tf.layers.dropout({ name, rate: layer.rate }).apply(x) as tf.SymbolicTensor;
      case 'activation':
        return tf.layers.activation({ name, activation: layer.activation }).apply(x) as tf.SymbolicTensor;
      case 'batchNorm':
        return tf.layers
          .batchNormalization({
            name,
            axis: -1,
            momentum: layer.momentum,
            epsilon: layer.epsilon,
          })
          .apply(x) as tf.SymbolicTensor;
      case 'inception': {
        const outputs = layer.branches.map((branch) => this.applySequence(branch, x));
        // The concatenation carries the module's name, so `getLayer(name)`
        // finds the module's output just as the plan describes it.
        return tf.layers.concatenate({ name, axis: -1 }).apply(outputs) as tf.SymbolicTensor;
      }
    }
  }

  applySequence(layers: (NormalizedLayer | NormalizedBranchLayer)[], x: tf.SymbolicTensor): tf.SymbolicTensor {
    return layers.reduce((tensor, layer) => this.apply(layer, tensor), x);
  }
}

function allNames(layers: (NormalizedLayer | NormalizedBranchLayer)[]): string[] {
  return layers.flatMap((layer) => (layer.type === 'inception' ? [layer.name, ...layer.branches.flatMap(allNames)] : [layer.name]));
}

/**
 * Builds an uncompiled tfjs model (functional API) whose layers carry the
 * plan's names, so `model.getLayer(plan.layers[i].name)` works. The spec is
 * planned first: a spec that would give tfjs a zero or negative size throws
 * SpecError here instead of producing a broken model.
 */
export function buildModel(spec: ModelSpec | NormalizedModelSpec, options: BuildModelOptions = {}): tf.LayersModel {
  planModel(spec, { maxParams: Infinity, maxMacs: Infinity });
  const normalized = normalizeModelSpec(spec);
  const factory = new LayerFactory(allNames(normalized.layers), options.seed);
  const input = tf.input({ shape: [...normalized.input.shape], name: factory.helperName('input') });
  const output = factory.applySequence(normalized.layers, input);
  return tf.model({ inputs: input, outputs: output, name: 'trainyard_model' });
}
