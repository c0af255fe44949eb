import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIVATIONS,
  INCEPTION_EXAMPLE_MODEL,
  INITIALIZERS,
  SEED_MNIST_MODEL,
  TINY_CNN_MODEL,
  buildModel,
  importKerasModel,
  isKerasEnvelope,
  kerasInitializer,
  planModel,
  resolveModelSpec,
  type ModelSpec,
} from '../../src/model-spec/index.js';
import { failure } from '../helpers/spec-error.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** tfjs `model.toJSON(null, false)` of the model our builder makes for `spec`. */
function exported(spec: ModelSpec): object {
  const model = buildModel(spec, { seed: 1 });
  try {
    return model.toJSON(null, false) as object;
  } finally {
    model.dispose();
  }
}

const BN_MODEL: ModelSpec = {
  input: { shape: [17, 13, 3] },
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: [3, 5], strides: [2, 1], padding: [1, 0, 2, 2], useBias: false, name: 'stem' },
    { type: 'batchNorm', momentum: 0.9, epsilon: 0.01 },
    { type: 'activation', activation: 'elu' },
    { type: 'avgPool2d', poolSize: [2, 3], strides: [1, 2], padding: 'same' },
    {
      type: 'inception',
      branches: [
        [{ type: 'conv2d', filters: 3, kernelSize: 1 }, { type: 'batchNorm' }, { type: 'activation', activation: 'swish' }],
        [
          { type: 'conv2d', filters: 4, kernelSize: 3, padding: 1 },
          { type: 'dropout', rate: 0.5 },
        ],
        [
          { type: 'avgPool2d', poolSize: 3, strides: 1, padding: 'same' },
          { type: 'conv2d', filters: 2, kernelSize: [1, 3], padding: 'same' },
        ],
      ],
    },
    { type: 'globalAvgPool2d' },
    { type: 'dense', units: 7, activation: 'softmax', kernelInitializer: 'heNormal', biasInitializer: 'ones' },
  ],
};

const FLAT_MODEL: ModelSpec = {
  input: { shape: [20] },
  layers: [
    { type: 'dense', units: 12, activation: 'selu', useBias: false },
    { type: 'batchNorm' },
    { type: 'dropout', rate: 0.1 },
    { type: 'dense', units: 3, activation: 'hardSigmoid' },
  ],
};

describe('tfjs model.toJSON round trip', () => {
  it.each<[string, ModelSpec]>([
    ['the MNIST network', SEED_MNIST_MODEL],
    ['the inception example', INCEPTION_EXAMPLE_MODEL],
    ['the tiny CNN', TINY_CNN_MODEL],
    ['batch norm, explicit padding, inception and global average pooling', BN_MODEL],
    ['a flat input', FLAT_MODEL],
  ])('%s plans exactly as the original', (_name, spec) => {
    const imported = importKerasModel(exported(spec));
    expect(planModel(imported)).toEqual(planModel(spec));
  });

  it('keeps the MNIST shapes and 3,274,634 parameters', () => {
    const plan = planModel(importKerasModel(exported(SEED_MNIST_MODEL)));
    expect(plan.layers.map((l) => [l.name, l.outputShape, l.params])).toEqual([
      ['conv2d_1', [28, 28, 32], 832],
      ['max_pool2d_1', [14, 14, 32], 0],
      ['conv2d_2', [14, 14, 64], 51264],
      ['max_pool2d_2', [7, 7, 64], 0],
      ['flatten_1', [3136], 0],
      ['dense_1', [1024], 3212288],
      ['dropout_1', [1024], 0],
      ['dense_2', [10], 10250],
    ]);
    expect(plan.totalParams).toBe(3_274_634);
  });

  it('reads the inception block back as one layer named after the Concatenate', () => {
    const imported = importKerasModel(exported(INCEPTION_EXAMPLE_MODEL));
    const block = imported.layers[2];
    expect(block).toMatchObject({ type: 'inception', name: 'mixed' });
    expect(block.type === 'inception' && block.branches.map((b) => b.map((l) => `${l.type}:${l.name}`))).toEqual([
      ['conv2d:conv2d_1'],
      ['conv2d:conv2d_2', 'conv2d:conv2d_3'],
      ['conv2d:conv2d_4', 'conv2d:conv2d_5'],
      ['maxPool2d:max_pool2d_2', 'conv2d:conv2d_6'],
    ]);
  });

  it('accepts the JSON string that toJSON() returns by default', () => {
    const model = buildModel(TINY_CNN_MODEL);
    const json = model.toJSON() as string;
    model.dispose();
    expect(typeof json).toBe('string');
    expect(planModel(importKerasModel(json)).totalParams).toBe(2970);
  });

  it('maps every activation and initializer back to ours', () => {
    const spec: ModelSpec = {
      input: { shape: [4] },
      layers: [
        ...ACTIVATIONS.map((activation) => ({ type: 'activation' as const, activation })),
        ...INITIALIZERS.map((init) => ({ type: 'dense' as const, units: 4, kernelInitializer: init, biasInitializer: init })),
      ],
    };
    const layers = importKerasModel(exported(spec)).layers;
    expect(layers.map((l) => (l.type === 'activation' ? l.activation : l.type === 'dense' ? l.kernelInitializer : l.type))).toEqual([...ACTIVATIONS, ...INITIALIZERS]);
    expect(layers.slice(ACTIVATIONS.length).map((l) => l.type === 'dense' && l.biasInitializer)).toEqual([...INITIALIZERS]);
  });

  it('reads a tf.sequential model: batch_input_shape, ReLU, Softmax and ZeroPadding2D layers', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.zeroPadding2d({
          inputShape: [28, 28, 1],
          padding: [
            [1, 2],
            [3, 4],
          ],
        }),
        tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'c1', kernelInitializer: 'heUniform' }),
        tf.layers.reLU({ name: 'r1' }),
        tf.layers.reLU({ maxValue: 6, name: 'r6' }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 'p' }),
        tf.layers.flatten({ name: 'f' }),
        tf.layers.dense({ units: 10, name: 'd' }),
        tf.layers.softmax({ name: 's' }),
      ],
    });
    const json = model.toJSON(null, false);
    const params = model.countParams();
    model.dispose();
    const spec = importKerasModel(json);
    expect(spec).toEqual({
      version: 1,
      input: { shape: [28, 28, 1] },
      layers: [
        {
          type: 'conv2d',
          name: 'c1',
          filters: 4,
          kernelSize: [3, 3],
          strides: [1, 1],
          padding: [1, 2, 3, 4],
          activation: 'linear',
          useBias: true,
          kernelInitializer: 'heUniform',
          biasInitializer: 'zeros',
        },
        { type: 'activation', name: 'r1', activation: 'relu' },
        { type: 'activation', name: 'r6', activation: 'relu6' },
        { type: 'maxPool2d', name: 'p', poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
        { type: 'flatten', name: 'f' },
        // tfjs's Dense, unlike Keras's, defaults to glorotNormal.
        {
          type: 'dense',
          name: 'd',
          units: 10,
          activation: 'linear',
          useBias: true,
          kernelInitializer: 'glorotNormal',
          biasInitializer: 'zeros',
        },
        { type: 'activation', name: 's', activation: 'softmax' },
      ],
    });
    expect(planModel(spec).totalParams).toBe(params);
  });
});

describe('tfjs model.json artifact', () => {
  it('reads modelTopology from what model.save() writes', async () => {
    const model = buildModel(INCEPTION_EXAMPLE_MODEL);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    const modelJson = JSON.stringify({
      format: artifacts!.format,
      generatedBy: artifacts!.generatedBy,
      convertedBy: artifacts!.convertedBy,
      modelTopology: artifacts!.modelTopology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts!.weightSpecs }],
    });
    expect(planModel(importKerasModel(JSON.parse(modelJson)))).toEqual(planModel(INCEPTION_EXAMPLE_MODEL));
    expect(planModel(importKerasModel(modelJson)).totalParams).toBe(planModel(INCEPTION_EXAMPLE_MODEL).totalParams);
  });

  it('reads the tfjs_converter layout for Keras HDF5 files (modelTopology.model_config)', () => {
    const artifact = {
      format: 'layers-model',
      generatedBy: 'keras v2.4.0',
      convertedBy: 'TensorFlow.js Converter v3.0.0',
      modelTopology: { keras_version: '2.4.0', backend: 'tensorflow', model_config: exported(TINY_CNN_MODEL), training_config: {} },
      weightsManifest: [],
    };
    expect(planModel(importKerasModel(artifact))).toEqual(planModel(TINY_CNN_MODEL));
  });
});

// The lesson's MNIST network as Python Keras 2 (tf.keras 2.3) writes it with model.to_json().
const KERAS2_MNIST = `{"class_name": "Sequential", "config": {"name": "sequential", "layers": [
 {"class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "batch_input_shape": [null, 28, 28, 1], "dtype": "float32",
  "filters": 32, "kernel_size": [5, 5], "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1],
  "groups": 1, "activation": "relu", "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
  "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null,
  "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
 {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "trainable": true, "dtype": "float32", "pool_size": [2, 2],
  "padding": "same", "strides": [2, 2], "data_format": "channels_last"}},
 {"class_name": "Conv2D", "config": {"name": "conv2d_1", "trainable": true, "dtype": "float32", "filters": 64, "kernel_size": [5, 5],
  "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu",
  "use_bias": true, "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": 42}},
  "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null,
  "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
 {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d_1", "trainable": true, "dtype": "float32", "pool_size": [2, 2],
  "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}},
 {"class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32", "data_format": "channels_last"}},
 {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 1024, "activation": "relu",
  "use_bias": true, "kernel_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}},
  "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null,
  "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
 {"class_name": "Dropout", "config": {"name": "dropout", "trainable": true, "dtype": "float32", "rate": 0.25, "noise_shape": null, "seed": null}},
 {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "dtype": "float32", "units": 10, "activation": "softmax",
  "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
  "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null,
  "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}}
]}, "keras_version": "2.3.0-tf", "backend": "tensorflow"}`;

// Keras 3 (3.x, model.to_json()): InputLayer in the list, batch_shape, DTypePolicy objects and
// initializers with module / registered_name.
const DTYPE = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const k3init = (className: string, config: object = {}) => ({ module: 'keras.initializers', class_name: className, config, registered_name: null });
/** The rest of what Keras 3 writes for a Conv2D: defaults that the import reads or must tolerate. */
const K3_CONV_DEFAULTS = {
  data_format: 'channels_last',
  dilation_rate: [1, 1],
  groups: 1,
  bias_initializer: k3init('Zeros'),
  kernel_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
};
const KERAS3_SEQUENTIAL = {
  module: 'keras',
  class_name: 'Sequential',
  config: {
    name: 'sequential',
    trainable: true,
    dtype: DTYPE,
    layers: [
      { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 32, 32, 3], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null },
      {
        module: 'keras.layers',
        class_name: 'Conv2D',
        registered_name: null,
        build_config: { input_shape: [null, 32, 32, 3] },
        config: {
          name: 'conv2d',
          trainable: true,
          dtype: DTYPE,
          filters: 16,
          kernel_size: [3, 3],
          strides: [2, 2],
          padding: 'valid',
          activation: 'linear',
          use_bias: false,
          kernel_initializer: k3init('HeUniform', { seed: null }),
          ...K3_CONV_DEFAULTS,
        },
      },
      {
        module: 'keras.layers',
        class_name: 'BatchNormalization',
        registered_name: null,
        config: {
          name: 'batch_normalization',
          trainable: true,
          dtype: DTYPE,
          axis: -1,
          momentum: 0.9,
          epsilon: 0.001,
          center: true,
          scale: true,
          beta_initializer: k3init('Zeros'),
          gamma_initializer: k3init('Ones'),
          moving_mean_initializer: k3init('Zeros'),
          moving_variance_initializer: k3init('Ones'),
          beta_regularizer: null,
          gamma_regularizer: null,
          beta_constraint: null,
          gamma_constraint: null,
          synchronized: false,
        },
      },
      {
        module: 'keras.layers',
        class_name: 'ReLU',
        registered_name: null,
        config: { name: 're_lu', trainable: true, dtype: DTYPE, max_value: null, negative_slope: 0.0, threshold: 0.0 },
      },
      {
        module: 'keras.layers',
        class_name: 'AveragePooling2D',
        registered_name: null,
        config: { name: 'average_pooling2d', trainable: true, dtype: DTYPE, pool_size: [2, 2], padding: 'valid', strides: null, data_format: 'channels_last' },
      },
      {
        module: 'keras.layers',
        class_name: 'GlobalAveragePooling2D',
        registered_name: null,
        config: { name: 'global_average_pooling2d', trainable: true, dtype: DTYPE, data_format: 'channels_last', keepdims: false },
      },
      {
        module: 'keras.layers',
        class_name: 'Dense',
        registered_name: null,
        config: {
          name: 'dense',
          trainable: true,
          dtype: DTYPE,
          units: 5,
          activation: 'silu',
          use_bias: true,
          kernel_initializer: k3init('VarianceScaling', { scale: 1.0, mode: 'fan_in', distribution: 'truncated_normal', seed: null }),
          bias_initializer: k3init('Zeros'),
          kernel_regularizer: null,
          bias_regularizer: null,
          kernel_constraint: null,
          bias_constraint: null,
        },
      },
      { module: 'keras.layers', class_name: 'Activation', registered_name: null, config: { name: 'activation', trainable: true, dtype: DTYPE, activation: 'hard_sigmoid' } },
    ],
    build_input_shape: [null, 32, 32, 3],
  },
  registered_name: null,
  build_config: { input_shape: [null, 32, 32, 3] },
};

// A Keras 3 functional inception block: inbound nodes as { args, kwargs } with __keras_tensor__ references.
const k3tensor = (from: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 14, 14, 8], dtype: 'float32', keras_history: [from, 0, 0] } });
const k3layer = (className: string, name: string, config: object, inputs: string | string[]) => ({
  module: 'keras.layers',
  class_name: className,
  config: { name, trainable: true, dtype: DTYPE, ...config },
  registered_name: null,
  name,
  inbound_nodes: [{ args: [Array.isArray(inputs) ? inputs.map(k3tensor) : k3tensor(inputs)], kwargs: {} }],
});
const k3conv = (name: string, filters: number, kernel: number, from: string) =>
  k3layer(
    'Conv2D',
    name,
    {
      filters,
      kernel_size: [kernel, kernel],
      strides: [1, 1],
      padding: 'same',
      activation: 'relu',
      use_bias: true,
      kernel_initializer: k3init('GlorotUniform', { seed: null }),
      ...K3_CONV_DEFAULTS,
    },
    from,
  );
const KERAS3_FUNCTIONAL = {
  module: 'keras.src.models.functional',
  class_name: 'Functional',
  config: {
    name: 'functional',
    trainable: true,
    layers: [
      {
        module: 'keras.layers',
        class_name: 'InputLayer',
        config: { batch_shape: [null, 28, 28, 1], dtype: 'float32', sparse: false, name: 'input_layer' },
        registered_name: null,
        name: 'input_layer',
        inbound_nodes: [],
      },
      k3conv('stem', 8, 3, 'input_layer'),
      k3layer('MaxPooling2D', 'pool', { pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' }, 'stem'),
      k3conv('b0', 4, 1, 'pool'),
      k3conv('b1a', 4, 1, 'pool'),
      k3conv('b1b', 6, 3, 'b1a'),
      k3layer('MaxPooling2D', 'b2a', { pool_size: [3, 3], padding: 'same', strides: [1, 1], data_format: 'channels_last' }, 'pool'),
      k3conv('b2b', 2, 1, 'b2a'),
      k3layer('Concatenate', 'mixed', { axis: -1 }, ['b0', 'b1b', 'b2b']),
      k3layer('GlobalAveragePooling2D', 'gap', { data_format: 'channels_last', keepdims: false }, 'mixed'),
      k3layer('Dense', 'out', { units: 10, activation: 'softmax', use_bias: true, kernel_initializer: k3init('GlorotUniform'), bias_initializer: k3init('Zeros') }, 'gap'),
    ],
    // Keras >= 3.10 writes a single input or output as one reference rather than a list of them.
    input_layers: ['input_layer', 0, 0],
    output_layers: [['out', 0, 0]],
  },
  registered_name: 'Functional',
  build_config: { input_shape: null },
};

describe('Python Keras documents', () => {
  it('reads a Keras 2 to_json() Sequential (batch_input_shape on the first layer)', () => {
    const spec = importKerasModel(KERAS2_MNIST);
    expect(spec.input.shape).toEqual([28, 28, 1]);
    expect(spec.layers.map((l) => l.name)).toEqual(['conv2d', 'max_pooling2d', 'conv2d_1', 'max_pooling2d_1', 'flatten', 'dense', 'dropout', 'dense_1']);
    expect(spec.layers[0]).toMatchObject({ kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' });
    expect(spec.layers[2]).toMatchObject({ kernelInitializer: 'heNormal' });
    // Orthogonal has no equivalent: the field is left out and the default applies.
    expect(spec.layers[5]).not.toHaveProperty('kernelInitializer');
    expect(planModel(spec).layers.map((l) => l.outputShape)).toEqual(planModel(SEED_MNIST_MODEL).layers.map((l) => l.outputShape));
    expect(planModel(spec).totalParams).toBe(3_274_634);
  });

  it('reads a Keras 3 to_json() Sequential (InputLayer with batch_shape, module / registered_name)', () => {
    const spec = importKerasModel(JSON.stringify(KERAS3_SEQUENTIAL));
    expect(spec).toEqual({
      version: 1,
      input: { shape: [32, 32, 3] },
      layers: [
        {
          type: 'conv2d',
          name: 'conv2d',
          filters: 16,
          kernelSize: [3, 3],
          strides: [2, 2],
          padding: 'valid',
          activation: 'linear',
          useBias: false,
          kernelInitializer: 'heUniform',
          biasInitializer: 'zeros',
        },
        { type: 'batchNorm', name: 'batch_normalization', momentum: 0.9, epsilon: 0.001 },
        { type: 'activation', name: 're_lu', activation: 'relu' },
        { type: 'avgPool2d', name: 'average_pooling2d', poolSize: [2, 2], padding: 'valid' },
        { type: 'globalAvgPool2d', name: 'global_average_pooling2d' },
        { type: 'dense', name: 'dense', units: 5, activation: 'swish', useBias: true, kernelInitializer: 'leCunNormal', biasInitializer: 'zeros' },
        { type: 'activation', name: 'activation', activation: 'hardSigmoid' },
      ],
    });
    const plan = planModel(spec);
    expect(plan.layers.map((l) => l.outputShape)).toEqual([[15, 15, 16], [15, 15, 16], [15, 15, 16], [7, 7, 16], [16], [5], [5]]);
    expect(plan.totalParams).toBe(432 + 64 + 85);
  });

  it('reads a Keras 3 functional inception block ({ args, kwargs } inbound nodes)', () => {
    const spec = importKerasModel(KERAS3_FUNCTIONAL);
    expect(spec.layers.map((l) => l.type)).toEqual(['conv2d', 'maxPool2d', 'inception', 'globalAvgPool2d', 'dense']);
    const plan = planModel(spec);
    expect(plan.layers[2]).toMatchObject({ name: 'mixed', inputShape: [14, 14, 8], outputShape: [14, 14, 12] });
    expect(plan.layers[2].branches!.map((b) => b.map((l) => l.name))).toEqual([['b0'], ['b1a', 'b1b'], ['b2a', 'b2b']]);
    expect(plan.outputShape).toEqual([10]);
  });

  it('keeps valid names and cleans up the others, keeping them unique', () => {
    const doc = JSON.parse(KERAS2_MNIST);
    doc.config.layers[0].config.name = 'block1/conv';
    doc.config.layers[2].config.name = 'block1_conv';
    doc.config.layers[4].config.name = '_flatten';
    const names = importKerasModel(doc).layers.map((l) => l.name);
    expect(names.slice(0, 5)).toEqual(['block1_conv', 'max_pooling2d', 'block1_conv_2', 'max_pooling2d_1', 'flatten']);
  });
});

describe('kerasInitializer', () => {
  it.each<[string, unknown, string | undefined]>([
    ['Keras 2 object', { class_name: 'GlorotNormal', config: { seed: null } }, 'glorotNormal'],
    ['Keras 3 object', k3init('LecunUniform', { seed: 3 }), 'leCunUniform'],
    ['snake_case string', 'he_normal', 'heNormal'],
    ['tfjs LeCunNormal', { class_name: 'LeCunNormal', config: {} }, 'leCunNormal'],
    ['glorot as VarianceScaling', { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'uniform' } }, 'glorotUniform'],
    ['he as VarianceScaling', { class_name: 'VarianceScaling', config: { scale: 2, mode: 'fan_in', distribution: 'truncated_normal' } }, 'heNormal'],
    ['other VarianceScaling', { class_name: 'VarianceScaling', config: { scale: 0.1, mode: 'fan_in', distribution: 'uniform' } }, undefined],
    ['untruncated normal', { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'untruncated_normal' } }, undefined],
    ['default RandomNormal', { class_name: 'RandomNormal', config: { mean: 0, stddev: 0.05 } }, 'randomNormal'],
    ['RandomNormal with another stddev', { class_name: 'RandomNormal', config: { mean: 0, stddev: 0.01 } }, undefined],
    ['Constant 0', { class_name: 'Constant', config: { value: 0 } }, 'zeros'],
    ['Constant 0.1', { class_name: 'Constant', config: { value: 0.1 } }, undefined],
    ['Orthogonal', { class_name: 'Orthogonal', config: { gain: 1 } }, undefined],
    ['null', null, undefined],
  ])('%s', (_what, raw, expected) => {
    expect(kerasInitializer(raw)).toBe(expected);
  });
});

describe('the { keras } envelope', () => {
  it('is recognised only with exactly a keras object or string', () => {
    expect(isKerasEnvelope({ keras: KERAS3_SEQUENTIAL })).toBe(true);
    expect(isKerasEnvelope({ keras: KERAS2_MNIST })).toBe(true);
    expect(isKerasEnvelope({ keras: KERAS3_SEQUENTIAL, input: {} })).toBe(false);
    expect(isKerasEnvelope({ keras: 3 })).toBe(false);
    expect(isKerasEnvelope(SEED_MNIST_MODEL)).toBe(false);
  });

  it('resolves either form to a compact spec, with error paths under /keras', () => {
    expect(resolveModelSpec(SEED_MNIST_MODEL)).toBe(SEED_MNIST_MODEL);
    expect(planModel(resolveModelSpec({ keras: KERAS2_MNIST })).totalParams).toBe(3_274_634);
    const doc = JSON.parse(KERAS2_MNIST);
    doc.config.layers[2].config.data_format = 'channels_first';
    const err = failure(() => resolveModelSpec({ keras: doc }));
    expect(err.path).toBe('/keras/config/layers/2/config/data_format');
    expect(err.layerIndex).toBe(2);
  });
});

// ---------------------------------------------------------------- errors

type Doc = Record<string, unknown>;
const conv = (config: Doc = {}) => ({ class_name: 'Conv2D', config: { name: 'c', filters: 4, kernel_size: [3, 3], ...config } });
const plain = (className: string, config: Doc = {}) => ({ class_name: className, config });
/** Keras 2 Sequential; layer 0 is the InputLayer, so the layers given here start at keras layer 1. */
const seq = (...layers: unknown[]) => ({
  class_name: 'Sequential',
  config: { name: 's', layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, 28, 28, 1], name: 'in' } }, ...layers] },
});
const seqWithShape = (shape: unknown) => ({
  class_name: 'Sequential',
  config: { layers: [{ class_name: 'InputLayer', config: { batch_input_shape: shape, name: 'in' } }, plain('Flatten')] },
});

/** Keras 2 functional node; `from` lists the producing layers. */
const node = (className: string, name: string, from: string[], config: Doc = {}) => ({
  class_name: className,
  name,
  config: { name, ...config },
  inbound_nodes: from.length === 0 ? [] : [from.map((f) => [f, 0, 0, {}])],
});
const fconv = (name: string, from: string, config: Doc = {}) => node('Conv2D', name, [from], { filters: 2, kernel_size: 1, ...config });
const fn = (layers: unknown[], outputs: string[] = [(layers.at(-1) as { name: string }).name], inputs = ['x']) => ({
  class_name: 'Functional',
  config: {
    name: 'f',
    layers: [node('InputLayer', 'x', [], { batch_input_shape: [null, 8, 8, 3] }), ...layers],
    input_layers: inputs.map((i) => [i, 0, 0]),
    output_layers: outputs.map((o) => [o, 0, 0]),
  },
});

describe('errors', () => {
  it.each<[string, unknown, string, string?]>([
    ['invalid JSON text', '{"class_name": ', 'keras model: not valid JSON (', ''],
    ['not an object', 42, 'keras model: expected a Keras model JSON object ({ class_name, config }) or a tfjs model.json ({ modelTopology })', ''],
    ['no class_name', { config: {} }, 'keras model: expected "class_name" (Sequential, Functional or Model) and "config"; got fields config', ''],
    ['a layer instead of a model', plain('Dense', { units: 3 }), "keras model: class_name 'Dense' is not a model; expected Sequential, Functional or Model", '/class_name'],
    ['no layers', { class_name: 'Sequential', config: { layers: [] } }, 'keras model: config.layers must be a non-empty list of layers', '/config/layers'],
    ['a layer that is not an object', seq('Conv2D'), 'keras layer 1: must be an object with "class_name" and "config"', '/config/layers/1'],
    [
      'no input shape',
      { class_name: 'Sequential', config: { layers: [conv()] } },
      'keras model: no input shape; start with an InputLayer or give the first layer batch_input_shape (Keras 2) or batch_shape (Keras 3)',
      '/config/layers',
    ],
    [
      'no channel axis',
      seqWithShape([null, 28, 28]),
      'keras layer 0 (InputLayer "in"): input shape [null, 28, 28] has no channel axis; give images a channel axis, e.g. [null, 28, 28, 1]',
      '/config/layers/0/config/batch_input_shape',
    ],
    [
      'unknown sizes',
      seqWithShape([null, null, null, 3]),
      'keras layer 0 (InputLayer "in"): input shape [null, null, null, 3] has unknown (null) sizes; every size but the batch must be fixed',
    ],
    [
      'a 3-D volume',
      seqWithShape([null, 8, 8, 8, 1]),
      'keras layer 0 (InputLayer "in"): input shape [null, 8, 8, 8, 1] is not supported; use [null, height, width, channels] or [null, features]',
    ],
    [
      'a zero-sized input',
      seqWithShape([null, 0, 28, 1]),
      'keras model: input.shape must be [height, width, channels] or [features] of positive integers, got [0, 28, 1]',
      '/config/layers/0/config/batch_input_shape',
    ],
    [
      'an unsupported class',
      seq({ class_name: 'Conv3D', config: { name: 'conv3d_1' } }),
      'keras layer 1 (Conv3D "conv3d_1"): class Conv3D is not supported; supported: Conv2D, MaxPooling2D, AveragePooling2D, ' +
        'GlobalAveragePooling2D, Flatten, Dense, Dropout, Activation, BatchNormalization, ZeroPadding2D, ReLU, Softmax, InputLayer, Concatenate',
      '/config/layers/1',
    ],
    [
      'a nested model',
      seq({ class_name: 'Sequential', config: { name: 'inner', layers: [] } }),
      'keras layer 1 (Sequential "inner"): nested models are not supported; put the inner model\'s layers in the outer model',
    ],
    [
      'channels_first',
      seq(conv({ data_format: 'channels_first' })),
      'keras layer 1 (Conv2D "c"): data_format \'channels_first\' is not supported; use channels_last',
      '/config/layers/1/config/data_format',
    ],
    ['dilation', seq(conv({ dilation_rate: [2, 2] })), 'keras layer 1 (Conv2D "c"): dilation_rate [2, 2] is not supported; it must be 1'],
    ['grouped convolution', seq(conv({ groups: 2 })), 'keras layer 1 (Conv2D "c"): groups 2 is not supported; it must be 1'],
    ['causal padding', seq(conv({ padding: 'causal' })), "keras layer 1 (Conv2D \"c\"): padding 'causal' is not supported; use 'same' or 'valid'"],
    [
      'an unknown activation',
      seq(conv({ activation: 'leaky_relu' })),
      'keras layer 1 (Conv2D "c"): activation \'leaky_relu\' is not supported; supported: linear, relu, relu6, elu, selu, sigmoid, ' +
        'hard_sigmoid, tanh, softmax, softplus, softsign, swish (silu), mish, gelu',
      '/config/layers/1/config/activation',
    ],
    [
      'a regularizer',
      seq(conv({ kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } })),
      'keras layer 1 (Conv2D "c"): kernel_regularizer is not supported; remove it (Trainyard trains without regularizers or constraints)',
    ],
    ['a frozen layer', seq(conv({ trainable: false })), 'keras layer 1 (Conv2D "c"): trainable: false is not supported; every layer is trained from fresh weights'],
    ['LoRA', seq(plain('Flatten'), plain('Dense', { name: 'd', units: 2, lora_rank: 4 })), 'keras layer 2 (Dense "d"): lora_rank is not supported; remove it'],
    [
      'batch norm over another axis',
      seq(plain('BatchNormalization', { name: 'bn', axis: [1] })),
      'keras layer 1 (BatchNormalization "bn"): axis [1] is not supported; only the last axis (-1 or 3) is normalized',
    ],
    [
      'batch norm without scale',
      seq(plain('BatchNormalization', { name: 'bn', scale: false })),
      'keras layer 1 (BatchNormalization "bn"): scale: false is not supported; gamma and beta are always learned',
    ],
    ['leaky ReLU layer', seq(plain('ReLU', { name: 'r', negative_slope: 0.1 })), 'keras layer 1 (ReLU "r"): negative_slope 0.1 is not supported; it must be 0'],
    ['capped ReLU other than 6', seq(plain('ReLU', { name: 'r', max_value: 3 })), 'keras layer 1 (ReLU "r"): max_value 3 is not supported; use none (relu) or 6 (relu6)'],
    [
      "tfjs Softmax's default axis 1 on an image",
      seq(plain('Softmax', { name: 'sm', axis: 1 })),
      'keras layer 1 (Softmax "sm"): axis 1 is not supported; softmax runs over the last axis (-1 or 3)',
    ],
    [
      'ZeroPadding2D before a pool',
      seq(plain('ZeroPadding2D', { name: 'zp', padding: 1 }), plain('MaxPooling2D', { name: 'p' })),
      'keras layer 1 (ZeroPadding2D "zp"): ZeroPadding2D is only supported directly before a Conv2D with padding \'valid\'',
    ],
    [
      'ZeroPadding2D before a same conv',
      seq(plain('ZeroPadding2D', { name: 'zp' }), conv({ padding: 'same' })),
      'keras layer 1 (ZeroPadding2D "zp"): ZeroPadding2D is only supported directly before a Conv2D with padding \'valid\'',
    ],
    [
      'ZeroPadding2D last',
      seq(plain('ZeroPadding2D', { name: 'zp' })),
      'keras layer 1 (ZeroPadding2D "zp"): ZeroPadding2D is only supported directly before a Conv2D with padding \'valid\'',
    ],
    [
      'a malformed ZeroPadding2D',
      seq(plain('ZeroPadding2D', { name: 'zp', padding: [1, 2, 3] }), conv()),
      'keras layer 1 (ZeroPadding2D "zp"): padding [1, 2, 3] must be n, [rows, cols] or [[top, bottom], [left, right]]',
    ],
    [
      'spatial dropout by noise_shape',
      seq(plain('Dropout', { name: 'dr', rate: 0.5, noise_shape: [null, 1, 1, 4] })),
      'keras layer 1 (Dropout "dr"): noise_shape is not supported',
    ],
    [
      'a second InputLayer',
      seq(conv(), { class_name: 'InputLayer', config: { name: 'in2', batch_input_shape: [null, 4] } }),
      'keras layer 2 (InputLayer "in2"): an InputLayer may only be the first layer',
    ],
    [
      'a kernel that does not fit (found by the planner)',
      seq(conv({ kernel_size: [29, 29] })),
      'keras layer 1 (Conv2D "c"): kernel 29x29 with padding \'valid\' does not fit a 28x28 input',
      '/config/layers/1/config/kernel_size',
    ],
    [
      'a bad filter count (found by the spec schema)',
      seq(conv({ filters: 0 })),
      'keras layer 1 (Conv2D "c"): filters must be an integer from 1 to 4096, got 0',
      '/config/layers/1/config/filters',
    ],
    [
      'a missing kernel size',
      seq({ class_name: 'Conv2D', config: { name: 'c', filters: 2 } }),
      'keras layer 1 (Conv2D "c"): kernel_size is required (an integer from 1 to 4096 or [height, width])',
      '/config/layers/1/config/kernel_size',
    ],
    ['Dense on an image', seq(plain('Dense', { name: 'd', units: 3 })), 'keras layer 1 (Dense "d"): expects a flat input, got [28, 28, 1]; add a flatten layer before it'],
    [
      'two inputs',
      fn([node('InputLayer', 'x2', [], { batch_input_shape: [null, 8, 8, 3] }), node('Concatenate', 'cat', ['x', 'x2'])], ['cat'], ['x', 'x2']),
      'keras model: 2 inputs ("x", "x2"); only models with one input are supported',
      '/config/input_layers',
    ],
    ['two outputs', fn([fconv('a', 'x'), fconv('b', 'x')], ['a', 'b']), 'keras model: 2 outputs ("a", "b"); only models with one output are supported', '/config/output_layers'],
    [
      'a residual Add',
      fn([fconv('a', 'x', { filters: 3 }), node('Add', 'add', ['x', 'a'])]),
      'keras layer 2 (Add "add"): Add merges (e.g. residual connections) are not supported; only a Concatenate on the channel axis can merge ' + 'branches, as an inception block',
      '/config/layers/2',
    ],
    [
      'a Concatenate over the batch axis',
      fn([fconv('a', 'x'), fconv('b', 'x'), node('Concatenate', 'cat', ['a', 'b'], { axis: 1 })]),
      'keras layer 3 (Concatenate "cat"): axis 1 is not supported; branches are concatenated on the channel axis (-1 or 3)',
    ],
    [
      'an identity branch',
      fn([fconv('a', 'x'), node('Concatenate', 'cat', ['x', 'a'])]),
      'keras layer 2 (Concatenate "cat"): takes "x" directly; every branch of an inception block needs at least one layer',
    ],
    [
      'a fork inside a branch',
      fn([fconv('a', 'x'), fconv('b', 'x'), fconv('b1', 'b'), fconv('b2', 'b'), node('Concatenate', 'cat', ['a', 'b1', 'b2'])]),
      'keras layer 2 (Conv2D "b"): forks again inside a branch; nested branches are not supported',
    ],
    [
      'a branch that is never merged',
      fn([fconv('a', 'x'), fconv('b', 'x'), fconv('c', 'a')]),
      'keras layer 2 (Conv2D "b"): its output is used by no layer and it is not the model output "c"; models must have exactly one output',
    ],
    [
      'a Concatenate fed by a layer and its successor',
      fn([fconv('a', 'x'), fconv('b', 'a'), node('Concatenate', 'cat', ['a', 'b'])]),
      'keras layer 3 (Concatenate "cat"): takes "a" directly; every branch of an inception block needs at least one layer',
    ],
    [
      'branches merged by two Concatenates',
      fn([fconv('a', 'x'), fconv('b', 'x'), fconv('c', 'x'), node('Concatenate', 'cat1', ['a', 'b']), node('Concatenate', 'cat2', ['cat1', 'c'])]),
      'keras layer 5 (Concatenate "cat2"): a Concatenate must merge two or more branches that all start from the same tensor (an inception block)',
    ],
    [
      'a Flatten inside a branch',
      fn([fconv('a', 'x'), node('Flatten', 'fl', ['x']), node('Concatenate', 'cat', ['a', 'fl'])]),
      'keras layer 2 (Flatten "fl"): Flatten is not allowed inside an inception branch; branches may contain Conv2D (after an optional ' +
        'ZeroPadding2D), MaxPooling2D, ' +
        'AveragePooling2D, BatchNormalization, Activation, ReLU, Softmax, Dropout',
    ],
    [
      'a shared layer',
      fn([{ ...fconv('a', 'x'), inbound_nodes: [[['x', 0, 0, {}]], [['x', 0, 0, {}]]] }]),
      'keras layer 1 (Conv2D "a"): is called 2 times; shared layers are not supported, each layer must be used once',
    ],
    ['an input from an unknown layer', fn([fconv('a', 'nowhere')]), 'keras layer 1 (Conv2D "a"): takes input from "nowhere", which is not a layer of this model'],
    [
      'a layer off the path to the output',
      fn([fconv('a', 'x'), node('Dense', 'loose', [])], ['a']),
      'keras layer 2 (Dense "loose"): is not on the path from the input to the output "a"; only single-input, single-output models are supported',
    ],
    [
      'the output fed on to another layer',
      fn([fconv('a', 'x'), fconv('b', 'a')], ['a']),
      'keras layer 2 (Conv2D "b"): its output is used by no layer and it is not the model output "a"; models must have exactly one output',
    ],
    [
      'a functional layer without a name',
      fn([{ class_name: 'Flatten', config: {}, inbound_nodes: [[['x', 0, 0, {}]]] }]),
      'keras layer 1 (Flatten): a functional model\'s layers need a "name"',
    ],
    [
      'a branch layer error found by the planner',
      fn([fconv('a', 'x'), fconv('b', 'x', { kernel_size: 9 }), node('Concatenate', 'cat', ['a', 'b'])]),
      'keras layer 2 (Conv2D "b"): kernel 9x9 with padding \'valid\' does not fit a 8x8 input',
      '/config/layers/2/config/kernel_size',
    ],
    [
      'branches of different sizes (found by the planner)',
      fn([fconv('a', 'x'), fconv('b', 'x', { kernel_size: 3 }), node('Concatenate', 'cat', ['a', 'b'])]),
      'keras layer 3 (Concatenate "cat"): branch 0 outputs 8x8 but branch 1 outputs 6x6; branches must agree in height and width',
    ],
  ])('%s', (_what, doc, message, path) => {
    const err = failure(() => importKerasModel(doc));
    if (message.endsWith('(')) expect(err.message.startsWith(message)).toBe(true);
    else expect(err.message).toBe(message);
    if (path !== undefined) expect(err.path).toBe(path);
  });

  it('locates a layer error by Keras index, class and name', () => {
    const err = failure(() => importKerasModel(seq(plain('Flatten'), conv({ data_format: 'channels_first' }))));
    expect(err.toJSON()).toMatchObject({
      code: 'INVALID_SPEC',
      layerIndex: 2,
      layerType: 'Conv2D',
      layerName: 'c',
      field: 'data_format',
      path: '/config/layers/2/config/data_format',
    });
  });

  it('points into modelTopology for a tfjs artifact', () => {
    const err = failure(() => importKerasModel({ modelTopology: seq(conv({ groups: 4 })), weightsManifest: [] }));
    expect(err.path).toBe('/modelTopology/config/layers/1/config/groups');
  });
});
