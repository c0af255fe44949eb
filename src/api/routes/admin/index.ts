import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TInteger } from 'typebox';
import { problems } from '../../schemas/common.schema.js';
import { ConflictError, NotFoundError } from '../../errors/index.js';
import { isUniqueViolation } from '../../../storage/prisma.js';
import * as keys from '../../../storage/api-keys.repository.js';
import type { AppConfig } from '../../../config/config.js';
import { QuotaOverridesSchema, resolveQuotas, type Quotas } from '../../../config/quotas.js';

const TenantIdSchema = Type.String({ pattern: keys.TENANT_ID_PATTERN, description: 'Lowercase slug: letters, digits, dashes; up to 63 characters.' });
const TenantNameSchema = Type.String({ minLength: 1, maxLength: 200 });
// Every limit, without repeating the descriptions QuotaOverrides gives them.
const EffectiveQuotasSchema = Type.Object(
  Object.fromEntries(Object.keys(QuotaOverridesSchema.properties).map((name) => [name, Type.Integer({ minimum: 0 })])) as { [K in keyof Quotas]: TInteger },
  { title: 'Quotas', description: "The server's defaults with the tenant's overrides applied: what it may use now (each limit as in QuotaOverrides)." },
);
const TenantSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    // The tenant's overrides of the server's default quotas (QUOTA_* settings); {} means the defaults.
    quotas: QuotaOverridesSchema,
    effectiveQuotas: EffectiveQuotasSchema,
    createdAt: Type.String({ format: 'date-time' }),
    activeKeys: Type.Integer({ description: 'API keys not revoked.' }),
  },
  { title: 'Tenant' },
);
const KeySchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  tenantId: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const NewKeySchema = Type.Object({ ...KeySchema.properties, key: Type.String({ description: 'The API key. Shown only in this answer: store it now.' }) });

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const tenantView = (t: keys.TenantRow, config: AppConfig) => ({ ...t, effectiveQuotas: resolveQuotas(config, t.quotas), createdAt: t.createdAt.toISOString() });
const keyView = (k: { id: string; tenantId: string; name: string; prefix: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }) => ({
  id: k.id,
  tenantId: k.tenantId,
  name: k.name,
  prefix: k.prefix,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: iso(k.lastUsedAt),
  revokedAt: iso(k.revokedAt),
});

const ServingStatsSchema = Type.Object(
  {
    requests: Type.Integer({ description: 'Predict requests batched since this API process started.' }),
    batches: Type.Integer({ description: 'Batches run; instances / batches is the mean batch size.' }),
    instances: Type.Integer(),
    maxBatch: Type.Integer({ description: 'Largest batch so far, in instances.' }),
    waiting: Type.Integer({ description: 'Requests waiting for a batch now.' }),
    running: Type.Integer({ description: 'Batches running now.' }),
    threads: Type.Integer({ description: 'Compute threads of this process.' }),
    queuedTasks: Type.Integer({ description: 'Compute tasks (batches, image decoding, dataset parsing) waiting for a thread.' }),
    maxBatchSize: Type.Integer(),
    batchTimeoutMicros: Type.Integer(),
  },
  { description: 'Counters of this API process (each process of a deployment has its own).' },
);

/** Operator routes (ADMIN_TOKEN): tenants and their API keys, serving counters. */
const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, serving, config } = app.services;
  const security = [{ adminToken: [] }];

  app.get(
    '/v1/admin/serving',
    {
      schema: {
        tags: ['admin'],
        operationId: 'getServingStats',
        summary: 'Dynamic batching and compute-thread counters of this API process',
        security,
        response: { 200: ServingStatsSchema },
      },
    },
    async () => ({ ...serving.stats(), maxBatchSize: config.PREDICT_MAX_BATCH_SIZE, batchTimeoutMicros: config.PREDICT_BATCH_TIMEOUT_MICROS }),
  );

  app.post(
    '/v1/admin/tenants',
    {
      schema: {
        tags: ['admin'],
        operationId: 'createTenant',
        summary: 'Create a tenant',
        security,
        body: Type.Object({ id: TenantIdSchema, name: Type.Optional(TenantNameSchema), quotas: Type.Optional(QuotaOverridesSchema) }, { additionalProperties: false }),
        response: { 201: TenantSchema, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      try {
        const t = await keys.createTenant(db, request.body.id, request.body.name, request.body.quotas);
        return reply.status(201).send(tenantView(t, config));
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError('tenant-exists', `tenant '${request.body.id}' already exists`);
        throw err;
      }
    },
  );

  app.get(
    '/v1/admin/tenants',
    {
      schema: {
        tags: ['admin'],
        operationId: 'listTenants',
        summary: 'List tenants',
        security,
        response: { 200: Type.Object({ items: Type.Array(TenantSchema) }), ...problems(401, 403) },
      },
    },
    async () => ({
      items: (await keys.listTenants(db)).map((t) => tenantView(t, config)),
    }),
  );

  const TenantParams = Type.Object({ tenantId: TenantIdSchema }, { additionalProperties: false });

  app.patch(
    '/v1/admin/tenants/:tenantId',
    {
      schema: {
        tags: ['admin'],
        operationId: 'updateTenant',
        summary: 'Rename a tenant or set its quotas',
        description:
          "`quotas` replaces all of the tenant's overrides: send every limit that should differ from the server default (`{}` returns it to the defaults). " +
          'New limits apply to the next submission, upload or job start; jobs already queued or running are not touched.',
        security,
        params: TenantParams,
        body: Type.Object({ name: Type.Optional(TenantNameSchema), quotas: Type.Optional(QuotaOverridesSchema) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: TenantSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const t = await keys.updateTenant(db, request.params.tenantId, request.body);
      if (!t) throw new NotFoundError('tenant', request.params.tenantId);
      return tenantView(t, config);
    },
  );

  app.post(
    '/v1/admin/tenants/:tenantId/keys',
    {
      schema: {
        tags: ['admin'],
        operationId: 'createApiKey',
        summary: 'Create an API key (shown once)',
        security,
        params: TenantParams,
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100, description: 'What the key is for, e.g. "ci".' }) }, { additionalProperties: false }),
        response: { 201: NewKeySchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      if (!(await keys.findTenant(db, request.params.tenantId))) throw new NotFoundError('tenant', request.params.tenantId);
      const created = await keys.createKey(db, request.params.tenantId, request.body.name);
      return reply.status(201).send({ ...keyView(created), key: created.key });
    },
  );

  app.get(
    '/v1/admin/tenants/:tenantId/keys',
    {
      schema: {
        tags: ['admin'],
        operationId: 'listApiKeys',
        summary: "List a tenant's API keys (never their secrets)",
        security,
        params: TenantParams,
        response: { 200: Type.Object({ items: Type.Array(KeySchema) }), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      if (!(await keys.findTenant(db, request.params.tenantId))) throw new NotFoundError('tenant', request.params.tenantId);
      return { items: (await keys.listKeys(db, request.params.tenantId)).map(keyView) };
    },
  );

  app.delete(
    '/v1/admin/keys/:id',
    {
      schema: {
        tags: ['admin'],
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key',
        security,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      if (!(await keys.revokeKey(db, request.params.id))) throw new NotFoundError('active API key', request.params.id);
      app.forgetApiKeys();
      return reply.status(204).send(null);
    },
  );
};

export default adminRoutes;
