import { Type } from 'typebox';

const NameParam = Type.String({ description: 'Registered model name.', examples: ['digits'] });
const VersionParam = Type.String({ description: 'Version number.', examples: ['1'] });
export const ModelParamsSchema = Type.Object({ name: NameParam });
export const VersionParamsSchema = Type.Object({ name: NameParam, version: VersionParam });

/** Datatypes of the Open Inference Protocol; Trainyard models take numbers, so BYTES and BOOL are refused by the route. */
const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;

const Parameters = Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Protocol parameters (accepted, not used).' }));

export const InferRequestSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 256, description: 'Echoed in the response.' })),
    parameters: Parameters,
    inputs: Type.Array(
      Type.Object({
        name: Type.String({ description: 'The input name from the model metadata: `input`.' }),
        shape: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: 8, description: '[batch, ...input shape] or [batch, features].' }),
        datatype: Type.Enum(DATATYPES),
        parameters: Parameters,
        data: Type.Array(Type.Unknown(), { description: 'Row-major values, flat or nested.' }),
      }),
      { minItems: 1, description: 'Exactly one input: Trainyard models have one.' },
    ),
    outputs: Type.Optional(Type.Array(Type.Object({ name: Type.String(), parameters: Parameters }), { description: 'Outputs to return (default: all).' })),
  },
  { additionalProperties: false },
);

const TensorSchema = Type.Object({ name: Type.String(), shape: Type.Array(Type.Integer()), datatype: Type.String(), data: Type.Array(Type.Number()) });

export const InferResponseSchema = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.Optional(Type.String()),
  outputs: Type.Array(TensorSchema),
});

const TensorMetadataSchema = Type.Object({ name: Type.String(), datatype: Type.String(), shape: Type.Array(Type.Integer()) });

export const ModelMetadataSchema = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(TensorMetadataSchema),
  outputs: Type.Array(TensorMetadataSchema),
});

export const ModelReadySchema = Type.Object({ name: Type.String(), ready: Type.Boolean() });
export const ServerMetadataSchema = Type.Object({ name: Type.String(), version: Type.String(), extensions: Type.Array(Type.String()) });
