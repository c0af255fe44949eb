import { Type } from 'typebox';
import { Nullable, UuidSchema } from '../../schemas/common.schema.js';
import { ModelMetricsSchema } from '../../../storage/model.schema.js';

export const ModelSchema = Type.Object(
  {
    id: UuidSchema,
    jobId: UuidSchema,
    name: Nullable(Type.String()),
    inputShape: Type.Array(Type.Integer(), { description: 'Shape of one instance, without the batch dimension.' }),
    numClasses: Type.Integer(),
    classNames: Type.Array(Type.String()),
    // The stored column's shape (checked when read), with the API's description.
    metrics: Type.Object(ModelMetricsSchema.properties, { description: 'Final epoch metrics and the held-out test evaluation.' }),
    preprocessing: Type.Object({
      inputShape: Type.Array(Type.Integer()),
      valueRange: Type.Array(Type.Number(), { description: 'Range of the input values the model was trained on.' }),
      outputs: Type.Enum(['probabilities', 'logits']),
      normalization: Type.Optional(
        Type.Object(
          { kind: Type.String(), offset: Type.Array(Type.Number()), scale: Type.Array(Type.Number()) },
          { description: 'Applied to raw inputs before the model: (value - offset[c]) × scale[c], c the channel.' },
        ),
      ),
      image: Type.Optional(
        Type.Union([
          Type.Object(
            { width: Type.Integer(), height: Type.Integer(), channels: Type.Integer(), valueScale: Type.Number() },
            { description: 'Image models: predict takes {"b64": PNG/JPEG}, decoded to this size.' },
          ),
          Type.Null(),
        ]),
      ),
    }),
    spec: Type.Unknown({ description: 'The model spec it was trained from.' }),
    engine: Type.Object({ name: Type.String(), version: Type.String() }, { additionalProperties: true }),
    sizeBytes: Type.Integer({ description: 'Size of the artifact (model.json + weights.bin).' }),
    createdAt: Type.String({ format: 'date-time' }),
    links: Type.Object({ self: Type.String(), job: Type.String(), predict: Type.String(), artifact: Type.String() }),
  },
  { title: 'Model' },
);

export const ModelListSchema = Type.Object({ items: Type.Array(ModelSchema), nextCursor: Nullable(Type.String()) });

export const PredictBodySchema = Type.Object(
  {
    instances: Type.Array(Type.Unknown(), {
      minItems: 1,
      description:
        'Inputs to classify. Each is nested in the model input shape (e.g. 28 lists of 28 lists of 1 number) or a flat ' +
        'list of all its numbers (784), as raw values like those of the dataset (the model applies its own normalisation); ' +
        'image models also take {"b64": "<base64 PNG or JPEG>"}, decoded and resized like the training images.',
    }),
  },
  { additionalProperties: false },
);

export const PredictResponseSchema = Type.Object({
  modelId: UuidSchema,
  predictions: Type.Array(Type.Array(Type.Number()), { description: 'Class probabilities per instance (sum to 1).' }),
  classes: Type.Array(Type.Integer(), { description: 'Most probable class index per instance.' }),
  labels: Type.Array(Type.String(), { description: 'Name of the most probable class per instance.' }),
});
