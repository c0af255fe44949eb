import { Type, type Static } from 'typebox';
import { Nullable, UuidSchema } from '../../schemas/common.schema.js';
import { LineageSchema, ModelAliasSchema, ModelVersionNumberSchema, RegisteredModelNameSchema } from '../../../storage/registry.schema.js';

export const NameParamsSchema = Type.Object({ name: RegisteredModelNameSchema }, { additionalProperties: false });
export const VersionParamsSchema = Type.Object({ name: RegisteredModelNameSchema, version: ModelVersionNumberSchema }, { additionalProperties: false });
export const AliasParamsSchema = Type.Object({ name: RegisteredModelNameSchema, alias: ModelAliasSchema }, { additionalProperties: false });

export const RegisterVersionBodySchema = Type.Object(
  { modelId: Type.String({ format: 'uuid', description: 'A trained model of yours (GET /v1/models, or the `modelId` of a succeeded job).' }) },
  { additionalProperties: false, examples: [{ modelId: '3f8a1c2e-5b7d-4e9f-a1b2-c3d4e5f60718' }] },
);
export type RegisterVersionBody = Static<typeof RegisterVersionBodySchema>;

export const SetAliasBodySchema = Type.Object({ version: ModelVersionNumberSchema }, { additionalProperties: false, examples: [{ version: 3 }] });

export const RegistryListQuerySchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1-100).' }),
    // The list is sorted by name, so the cursor is the last name of the previous page.
    cursor: Type.Optional(RegisteredModelNameSchema),
  },
  { additionalProperties: false },
);

export const ModelVersionSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer(),
    modelId: UuidSchema,
    aliases: Type.Array(Type.String(), { description: 'Aliases pointing at this version.' }),
    lineage: LineageSchema,
    createdAt: Type.String({ format: 'date-time', description: 'When the version was registered.' }),
    links: Type.Object({ self: Type.String(), model: Type.String() }),
  },
  { title: 'ModelVersion' },
);
export type ModelVersionView = Static<typeof ModelVersionSchema>;

export const AliasRefSchema = Type.Object({ alias: Type.String(), version: Type.Integer() });

const registeredModelFields = {
  name: Type.String(),
  lastVersion: Type.Integer({ description: 'Highest version number ever assigned, deleted versions included: numbers are never reused.' }),
  aliases: Type.Array(AliasRefSchema, { description: 'Aliases by name, with the version each points at.' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time', description: 'Last time a version was registered.' }),
  links: Type.Object({ self: Type.String() }),
};

export const RegisteredModelSummarySchema = Type.Object(
  {
    ...registeredModelFields,
    versionCount: Type.Integer(),
    // The highest version; null when every version was deleted.
    latest: Nullable(ModelVersionSchema),
  },
  { title: 'RegisteredModelSummary' },
);
export type RegisteredModelSummaryView = Static<typeof RegisteredModelSummarySchema>;

export const RegisteredModelListSchema = Type.Object({ items: Type.Array(RegisteredModelSummarySchema), nextCursor: Nullable(Type.String()) });

export const RegisteredModelSchema = Type.Object(
  { ...registeredModelFields, versions: Type.Array(ModelVersionSchema, { description: 'Ascending by version.' }) },
  { title: 'RegisteredModel' },
);
export type RegisteredModelView = Static<typeof RegisteredModelSchema>;

export const AliasSchema = Type.Object(
  {
    name: Type.String(),
    alias: Type.String(),
    version: Type.Integer(),
    previousVersion: Nullable(Type.Integer({ description: 'Where the alias pointed before this request; null when it is new.' })),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    links: Type.Object({ version: Type.String() }),
  },
  { title: 'ModelAlias' },
);
export type AliasView = Static<typeof AliasSchema>;
