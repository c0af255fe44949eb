import { Type } from 'typebox';

/** `schema` or null: fields that exist on every answer but are empty until known. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const UuidSchema = Type.String({ format: 'uuid', description: 'Identifier (UUID).', examples: ['3f8a1c2e-5b7d-4e9f-a1b2-c3d4e5f60718'] });

export const IdParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false });

export const PageQuerySchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1-100).' }),
    cursor: Type.Optional(Type.String({ format: 'uuid', description: 'The `nextCursor` of the previous page.' })),
  },
  { additionalProperties: false },
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI that identifies the problem type: urn:trainyard:problem:<code>.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: 'What went wrong, naming the field and what is allowed.' }),
    code: Type.String({ description: 'Stable machine-readable code, e.g. invalid-request, invalid-spec, not-found.' }),
    instance: Type.String({ description: 'The request path.' }),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), { description: 'One entry per problem, when known.' })),
  },
  {
    title: 'Problem',
    description: 'RFC 9457 problem details, served as application/problem+json.',
    additionalProperties: true,
    examples: [
      {
        type: 'urn:trainyard:problem:invalid-request',
        title: 'Invalid Request',
        status: 400,
        detail: 'layer 0 (conv2d): kernelSize must be an integer from 1 to 4096 or a list of 2 integers, got "5"',
        code: 'invalid-request',
        instance: '/v1/jobs',
        errors: [{ field: 'model.layers[0].kernelSize', message: 'layer 0 (conv2d): kernelSize must be ...' }],
      },
    ],
  },
);

/** Response map entries for the error statuses a route can answer. */
export function problems(...statuses: number[]): Record<number, typeof ProblemSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemSchema]));
}
