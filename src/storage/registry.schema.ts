import { Type, type Static } from 'typebox';

/**
 * Shapes of the model registry shared by the API (validation, OpenAPI), the
 * worker (registration at the end of a job) and the repository (the stored
 * `lineage` column, checked when read).
 *
 * `x-expected` says in words what a string must be; the API's validation
 * errors use it instead of quoting the regular expression.
 */

export const REGISTERED_MODEL_NAME_RULE = "1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit";

/** Names appear in URLs such as `/tfserving/v1/models/{name}:predict`, hence no ':' or '/'. */
export const RegisteredModelNameSchema = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
  minLength: 1,
  maxLength: 128,
  description: `Registered model name: ${REGISTERED_MODEL_NAME_RULE}.`,
  examples: ['digits'],
  'x-expected': REGISTERED_MODEL_NAME_RULE,
});

/** Always means the highest version of a name; no alias may take it. */
export const LATEST_ALIAS = 'latest';

export const MODEL_ALIAS_RULE = "1 to 63 lowercase letters, digits, '_' or '-', starting with a letter, and not 'latest' (which always means the highest version)";

/** Starting with a letter keeps an alias from ever reading as a version number. */
export const ModelAliasSchema = Type.String({
  pattern: `^(?!${LATEST_ALIAS}$)[a-z][a-z0-9_-]{0,62}$`,
  minLength: 1,
  maxLength: 63,
  description: `Alias: ${MODEL_ALIAS_RULE}.`,
  examples: ['production'],
  'x-expected': MODEL_ALIAS_RULE,
});

/** Version numbers are Postgres integers. */
export const MAX_MODEL_VERSION = 2_147_483_647;

export const ModelVersionNumberSchema = Type.Integer({ minimum: 1, maximum: MAX_MODEL_VERSION, description: 'Version number: 1, 2, 3...' });

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

/** Where a registered version came from, captured when it is registered (`model_versions.lineage`). */
export const LineageSchema = Type.Object(
  {
    jobId: Type.String({ format: 'uuid', description: 'The training job that produced the model.' }),
    specHash: Type.String({
      pattern: '^[0-9a-f]{64}$',
      description: "SHA-256 of the canonical JSON (keys sorted) of the job's model spec: equal hashes, equal architectures.",
    }),
    datasetId: Type.String({ description: 'Dataset the job trained on (`mnist` for the built-in digits).' }),
    datasetLimit: Nullable(Type.Integer({ description: 'The job used only the first N examples; null: all.' })),
    datasetContentHash: Nullable(
      Type.String({
        description: "The uploaded dataset's `contentHash`; for a built-in dataset the SHA-256 of its examples. Null when the dataset was deleted before registration.",
      }),
    ),
    hyperparameters: Type.Record(Type.String(), Type.Unknown(), {
      description: "The job's training spec with every default filled in, as it trained (as submitted, for jobs stored by earlier versions).",
    }),
    metrics: Type.Record(Type.String(), Nullable(Type.Number()), { description: "The trained model's final metrics." }),
    engine: Type.Object({ name: Type.String(), version: Type.String() }, { additionalProperties: true, description: 'Engine that trained the model.' }),
    modelCreatedAt: Type.String({ format: 'date-time', description: 'When the trained model was stored.' }),
  },
  { title: 'Lineage' },
);
export type Lineage = Static<typeof LineageSchema>;
