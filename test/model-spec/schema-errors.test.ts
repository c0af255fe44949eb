import { Ajv } from 'ajv';
import { Type, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { describeValidationErrors } from '../../src/api/plugins/app/validation.js';
import { Conv2dLayerSchema, ModelSpecSchema, TrainingSpecSchema } from '../../src/model-spec/index.js';
import { describeViolations, fieldName, typeboxViolations } from '../../src/model-spec/schema-errors.js';

// The API's body options: one error at a time, no coercion, no defaults.
const ajv = new Ajv({ allErrors: false, discriminator: true, verbose: true, strict: false, coerceTypes: false, useDefaults: false });

/** The first problem as the API words it (ajv) and as the model-spec checker does (TypeBox). */
function bothWays(schema: TSchema, value: unknown): [string, string] {
  const validate = ajv.compile(schema);
  expect(validate(structuredClone(value))).toBe(false);
  const viaAjv = describeValidationErrors(validate.errors ?? [], value)[0];
  const [first] = describeViolations(typeboxViolations(schema, Value.Errors(schema, value)), value);
  return [viaAjv.message, `${fieldName(first.path)} ${first.complaint}`];
}

const conv = (extra: object) => ({ type: 'conv2d', filters: 4, kernelSize: 3, ...extra });
const Tuple = Type.Object({ size: Type.Tuple([Type.Integer(), Type.Integer()]) });

describe('one wording whichever library found the problem', () => {
  it.each<[string, TSchema, unknown, string]>([
    ['a union, in the words the schema carries', Conv2dLayerSchema, conv({ kernelSize: [3] }), 'kernelSize must be an integer from 1 to 4096 or [height, width], got [3]'],
    ['a bound, with the whole range', Conv2dLayerSchema, conv({ filters: 0 }), 'filters must be an integer from 1 to 4096, got 0'],
    ['a missing field, with what it takes', Conv2dLayerSchema, { type: 'conv2d', filters: 4 }, 'kernelSize is required (an integer from 1 to 4096 or [height, width])'],
    [
      'an unknown field, with the allowed ones',
      TrainingSpecSchema,
      { lr: 1 },
      'lr is not an allowed field; allowed fields: optimizer, learningRate, momentum, epochs, batchSize, validationSplit, testSplit, seed, earlyStopping, normalization, maxWallTimeSeconds, loss, learningRateSchedule, augmentation',
    ],
    ['an enum', TrainingSpecSchema, { optimizer: 'adamw' }, 'optimizer must be one of "sgd", "momentum", "adam", "rmsprop", got "adamw"'],
    ['a pattern, in words', Conv2dLayerSchema, conv({ name: 'a b' }), "name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got \"a b\""],
    ['too few items', ModelSpecSchema, { input: { shape: [4] }, layers: [] }, 'layers must have at least 1 item, got []'],
    ['an item past the end of a tuple', Tuple, { size: [1, 2, 3] }, 'size must be a list of 2 integers, got [1, 2, 3]'],
  ])('%s', (_what, schema, value, message) => {
    const [viaAjv, viaTypeBox] = bothWays(schema, value);
    expect(viaAjv).toBe(message);
    expect(viaTypeBox).toBe(message);
  });
});
