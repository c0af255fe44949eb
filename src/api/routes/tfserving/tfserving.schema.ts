import { Type } from 'typebox';

/** Path segments as TF Serving spells them; a version that is not a number is refused by the route, as TF Serving does. */
const NameParam = Type.String({ description: 'Registered model name.', examples: ['digits'] });
const VersionParam = Type.String({ description: 'Version number.', examples: ['1'] });
const LabelParam = Type.String({ description: 'Version label (a registry alias, or `latest`).', examples: ['production'] });

export const NameParamsSchema = Type.Object({ name: NameParam });
export const VersionParamsSchema = Type.Object({ name: NameParam, version: VersionParam });
export const LabelParamsSchema = Type.Object({ name: NameParam, label: LabelParam });

export const TfPredictBodySchema = Type.Object(
  {
    signature_name: Type.Optional(Type.String({ description: 'Only `serving_default` exists.' })),
    instances: Type.Optional(
      Type.Array(Type.Unknown(), {
        minItems: 1,
        description:
          'Row format: one entry per instance, nested in the input shape or flat, `{"b64": "<PNG or JPEG>"}` for image models, ' +
          'or `{"input": <any of those>}` naming the one input.',
      }),
    ),
    inputs: Type.Optional(Type.Unknown({ description: 'Columnar format: the batch of inputs (a list, first dimension = instances), or `{"input": <that list>}`.' })),
  },
  { additionalProperties: false, description: 'Exactly one of `instances` and `inputs`.' },
);

export const TfPredictResponseSchema = Type.Object(
  {
    predictions: Type.Optional(Type.Array(Type.Array(Type.Number()), { description: 'Row format: class probabilities per instance.' })),
    outputs: Type.Optional(Type.Array(Type.Array(Type.Number()), { description: 'Columnar format: the output tensor (instances × classes).' })),
  },
  { additionalProperties: false },
);

export const ModelStatusSchema = Type.Object({
  model_version_status: Type.Array(
    Type.Object({
      version: Type.String(),
      state: Type.Enum(['START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END']),
      status: Type.Object({ error_code: Type.String(), error_message: Type.String() }),
    }),
  ),
});

const TensorInfoSchema = Type.Object(
  {
    dtype: Type.String(),
    tensor_shape: Type.Object({ dim: Type.Array(Type.Object({ size: Type.String(), name: Type.String() })), unknown_rank: Type.Boolean() }),
    name: Type.String(),
  },
  { title: 'TfservingTensorInfo' },
);

export const ModelMetadataSchema = Type.Object({
  model_spec: Type.Object({ name: Type.String(), signature_name: Type.String(), version: Type.String() }),
  metadata: Type.Object({
    signature_def: Type.Object({
      signature_def: Type.Record(
        Type.String(),
        Type.Object({
          inputs: Type.Record(Type.String(), TensorInfoSchema),
          outputs: Type.Record(Type.String(), TensorInfoSchema),
          method_name: Type.String(),
        }),
      ),
    }),
  }),
});
