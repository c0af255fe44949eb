import { Type, type Static } from 'typebox';
import { LayerSpecSchema } from './layer-spec.schema.js';
import { expects } from './schema-errors.js';

export const MAX_LAYERS = 200;
export const MAX_SPATIAL = 4096;
export const MAX_CHANNELS = 4096;
export const MAX_FEATURES = 1_048_576;

/** Fields of ModelSpec other than `layers`, shared with the normalizer's shallow check. */
export const MODEL_BASE_PROPERTIES = {
  version: Type.Optional(
    Type.Literal(1, {
      default: 1,
      description: 'Spec format version. Only 1 exists; default 1.',
    }),
  ),
  input: Type.Object(
    {
      shape: Type.Union(
        [
          Type.Tuple(
            [
              Type.Integer({ minimum: 1, maximum: MAX_SPATIAL, description: 'Height.' }),
              Type.Integer({ minimum: 1, maximum: MAX_SPATIAL, description: 'Width.' }),
              Type.Integer({ minimum: 1, maximum: MAX_CHANNELS, description: 'Channels (1 for grayscale, 3 for RGB).' }),
            ],
            { description: 'An image: [height, width, channels].' },
          ),
          Type.Tuple([Type.Integer({ minimum: 1, maximum: MAX_FEATURES, description: 'Number of features.' })], { description: 'A flat vector: [features].' }),
        ],
        {
          ...expects('[height, width, channels] or [features] of positive integers'),
          description: 'Shape of one example, without the batch dimension: [height, width, channels] or [features].',
        },
      ),
    },
    {
      additionalProperties: false,
      description: 'The input layer.',
    },
  ),
};

export const LAYERS_DESCRIPTION = `1 to ${MAX_LAYERS} layers applied in order; the output of the last one is the model output.`;

export const ModelSpecSchema = Type.Object(
  {
    ...MODEL_BASE_PROPERTIES,
    layers: Type.Array(LayerSpecSchema, { minItems: 1, maxItems: MAX_LAYERS, description: LAYERS_DESCRIPTION }),
  },
  {
    additionalProperties: false,
    title: 'ModelSpec',
    description: 'A convolutional network as data: an input shape and a list of layers. Shapes and parameter ' + 'counts follow TensorFlow rules exactly.',
  },
);

/**
 * A model spec as submitted. Optional fields take the defaults documented
 * on the schema; {@link normalizeModelSpec} fills them in.
 */
export type ModelSpec = Static<typeof ModelSpecSchema>;
export type InputShape = ModelSpec['input']['shape'];
