import { Ajv, type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  INCEPTION_EXAMPLE_MODEL,
  LAYER_DEFAULTS,
  ModelSpecSchema,
  SEED_MNIST_MODEL,
  TINY_CNN_MODEL,
  TRAINING_DEFAULTS,
  TrainingSpecSchema,
  normalizeModelSpec,
  normalizeTrainingSpec,
  type ModelSpec,
  type NormalizedModelSpec,
} from '../../src/model-spec/index.js';

// The options the API uses, plus `strict: true` so that any keyword ajv
// does not understand, or a default it would ignore, fails the test.
function compile(schema: object) {
  const ajv = new Ajv({ discriminator: true, allErrors: false, useDefaults: true, coerceTypes: false, strict: true });
  return ajv.compile(schema);
}

const validateModel = compile(ModelSpecSchema);
const validateTraining = compile(TrainingSpecSchema);

function errorsFor(spec: unknown): ErrorObject[] {
  expect(validateModel(structuredClone(spec))).toBe(false);
  return validateModel.errors ?? [];
}

const withLayers = (...layers: unknown[]) => ({ input: { shape: [28, 28, 1] }, layers });

describe('ModelSpecSchema under ajv', () => {
  it.each([
    ['SEED_MNIST_MODEL', SEED_MNIST_MODEL],
    ['INCEPTION_EXAMPLE_MODEL', INCEPTION_EXAMPLE_MODEL],
    ['TINY_CNN_MODEL', TINY_CNN_MODEL],
  ])('accepts %s', (_name, spec) => {
    expect(validateModel(structuredClone(spec)), JSON.stringify(validateModel.errors)).toBe(true);
  });

  it.each([
    ['SEED_MNIST_MODEL', SEED_MNIST_MODEL],
    ['INCEPTION_EXAMPLE_MODEL', INCEPTION_EXAMPLE_MODEL],
  ])('accepts the normalized %s, so normalized specs can be stored and resubmitted', (_name, spec) => {
    const normalized = normalizeModelSpec(spec);
    expect(validateModel(structuredClone(normalized)), JSON.stringify(validateModel.errors)).toBe(true);
    expect(normalizeModelSpec(normalized)).toEqual(normalized);
  });

  it('reports a bad conv2d field at /layers/i/kernelSize, only for the conv2d variant', () => {
    const errors = errorsFor(
      withLayers({ type: 'flatten' }, { type: 'dense', units: 10 }, { type: 'activation', activation: 'relu' }, { type: 'conv2d', filters: 8, kernelSize: [3] }),
    );
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e.instancePath).toBe('/layers/3/kernelSize');
    expect(errors.map((e) => e.schemaPath).every((p) => p.includes('/oneOf/0/'))).toBe(true);
  });

  it('reports an unknown layer type as a discriminator error', () => {
    const errors = errorsFor(withLayers({ type: 'conv3d', filters: 3 }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      keyword: 'discriminator',
      instancePath: '/layers/0',
      params: { error: 'mapping', tag: 'type', tagValue: 'conv3d' },
    });
  });

  it('reports a missing type as a discriminator error', () => {
    const errors = errorsFor(withLayers({ filters: 3 }));
    expect(errors[0]).toMatchObject({ keyword: 'discriminator', instancePath: '/layers/0', params: { error: 'tag' } });
  });

  it('reports an unknown field as additionalProperties', () => {
    const errors = errorsFor(withLayers({ type: 'conv2d', filters: 8, kernelSize: 3, kernel_size: 3 }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      keyword: 'additionalProperties',
      instancePath: '/layers/0',
      params: { additionalProperty: 'kernel_size' },
    });
  });

  it('rejects unknown top-level and input fields', () => {
    expect(errorsFor({ ...withLayers({ type: 'flatten' }), extra: 1 })[0].keyword).toBe('additionalProperties');
    expect(errorsFor({ input: { shape: [4], dtype: 'float32' }, layers: [{ type: 'dense', units: 1 }] })[0]).toMatchObject({
      keyword: 'additionalProperties',
      instancePath: '/input',
    });
  });

  it('checks layers inside inception branches with the branch discriminator', () => {
    const errors = errorsFor(
      withLayers({
        type: 'inception',
        branches: [[{ type: 'conv2d', filters: 2, kernelSize: 1 }], [{ type: 'dense', units: 3 }]],
      }),
    );
    expect(errors[0]).toMatchObject({
      keyword: 'discriminator',
      instancePath: '/layers/0/branches/1/0',
      params: { tagValue: 'dense' },
    });
  });

  it.each([
    ['dropout rate 1', { type: 'dropout', rate: 1 }, '/layers/0/rate'],
    ['zero filters', { type: 'conv2d', filters: 0, kernelSize: 3 }, '/layers/0/filters'],
    ['negative padding', { type: 'conv2d', filters: 1, kernelSize: 3, padding: -1 }, '/layers/0/padding'],
    ['3-value padding', { type: 'conv2d', filters: 1, kernelSize: 3, padding: [1, 1, 1] }, '/layers/0/padding'],
    ['unknown activation', { type: 'dense', units: 2, activation: 'leakyRelu' }, '/layers/0/activation'],
    ['bad name', { type: 'flatten', name: 'has space' }, '/layers/0/name'],
  ])('rejects %s', (_what, layer, path) => {
    expect(errorsFor(withLayers(layer))[0].instancePath).toBe(path);
  });

  it('advertises the same defaults the normalizer applies', () => {
    const filled = structuredClone(
      withLayers({ type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'maxPool2d' }, { type: 'batchNorm' }, { type: 'flatten' }, { type: 'dense', units: 2 }),
    ) as ModelSpec;
    expect(validateModel(filled)).toBe(true);
    const normalized: NormalizedModelSpec = normalizeModelSpec(filled);
    const [conv, pool, bn, , dense] = filled.layers as Record<string, unknown>[];
    expect(filled.version).toBe(1);
    expect(conv).toMatchObject({
      strides: LAYER_DEFAULTS.strides,
      padding: LAYER_DEFAULTS.convPadding,
      activation: 'linear',
      useBias: true,
      kernelInitializer: 'glorotUniform',
      biasInitializer: 'zeros',
    });
    expect(pool).toMatchObject({ poolSize: 2, padding: 'valid' });
    expect(pool.strides).toBeUndefined(); // defaults to poolSize, which JSON Schema cannot express
    expect(bn).toMatchObject({ momentum: 0.99, epsilon: 0.001 });
    expect(dense).toMatchObject({ activation: 'linear', useBias: true });
    expect(normalizeModelSpec(filled)).toEqual(normalized);
  });

  it('documents every property', () => {
    const missing: string[] = [];
    const walk = (schema: unknown, path: string): void => {
      if (schema === null || typeof schema !== 'object') return;
      const s = schema as Record<string, unknown>;
      if (s.properties) {
        for (const [key, sub] of Object.entries(s.properties as Record<string, Record<string, unknown>>)) {
          if (typeof sub.description !== 'string') missing.push(`${path}.${key}`);
          walk(sub, `${path}.${key}`);
        }
      }
      for (const key of ['items', 'oneOf', 'anyOf']) {
        const sub = s[key];
        if (Array.isArray(sub)) sub.forEach((x, i) => walk(x, `${path}.${key}[${i}]`));
        else walk(sub, `${path}.${key}`);
      }
    };
    walk(ModelSpecSchema, 'model');
    walk(TrainingSpecSchema, 'training');
    expect(missing).toEqual([]);
  });
});

describe('TrainingSpecSchema under ajv', () => {
  it('fills the same defaults as normalizeTrainingSpec', () => {
    const body = {};
    expect(validateTraining(body)).toBe(true);
    expect(body).toEqual(TRAINING_DEFAULTS);
    const { loss, ...rest } = normalizeTrainingSpec({});
    expect(rest).toEqual(TRAINING_DEFAULTS);
    expect(loss).toBeUndefined();
  });

  it.each([
    [{ optimizer: 'adagrad' }, '/optimizer'],
    [{ learningRate: 0 }, '/learningRate'],
    [{ learningRate: 11 }, '/learningRate'],
    [{ epochs: 1.5 }, '/epochs'],
    [{ batchSize: 0 }, '/batchSize'],
    [{ validationSplit: 0.6 }, '/validationSplit'],
    [{ seed: -1 }, '/seed'],
    [{ loss: 'hinge' }, '/loss'],
  ])('rejects %j', (body, path) => {
    expect(validateTraining(body)).toBe(false);
    expect(validateTraining.errors?.[0].instancePath).toBe(path);
  });
});
