import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { checkPostgres, checkRedis, checkStorage } from '../../services/health-checks.js';

const CheckSchema = Type.Object({ ok: Type.Boolean(), latencyMs: Type.Optional(Type.Number()), error: Type.Optional(Type.String()) }, { title: 'ReadinessCheck' });
const ReadySchema = Type.Object(
  {
    status: Type.Enum(['ready', 'unavailable']),
    draining: Type.Boolean({ description: 'The process is shutting down: it answers new requests 503 until it stops listening.' }),
    checks: Type.Object({
      postgres: CheckSchema,
      redis: CheckSchema,
      storage: Type.Object(
        { ...CheckSchema.properties, kind: Type.Enum(['disk', 's3'], { description: 'ARTIFACT_DIR (disk) or STORAGE_URL (s3).' }) },
        { title: 'StorageReadinessCheck', description: 'The artifact store: models, checkpoints and uploaded datasets.' },
      ),
    }),
    compute: Type.Object({
      threads: Type.Integer({ description: 'Worker threads for inference, image decoding and dataset parsing.' }),
      started: Type.Boolean({ description: 'Whether they run yet: the server starts them before it listens.' }),
    }),
    engine: Type.Optional(
      Type.Object({ name: Type.String(), version: Type.String() }, { additionalProperties: true, description: 'Engine of the compute threads, once started.' }),
    ),
  },
  { title: 'Readiness' },
);

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, redis, artifacts, config } = app.services;

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getLiveness',
        summary: 'Liveness: the process is up',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getReadiness',
        summary: 'Readiness: PostgreSQL, Redis and the artifact store are reachable',
        security: [],
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const [postgres, redisCheck, storage] = await Promise.all([checkPostgres(db), checkRedis(redis), checkStorage(artifacts)]);
      const ready = postgres.ok && redisCheck.ok && storage.ok && !app.draining;
      const { compute } = app.services;
      return reply.status(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'unavailable',
        draining: app.draining,
        checks: { postgres, redis: redisCheck, storage: { kind: config.STORAGE_URL ? ('s3' as const) : ('disk' as const), ...storage } },
        compute: { threads: compute.threads, started: compute.engine !== null },
        engine: compute.engine ?? undefined,
      });
    },
  );
};

export default healthRoutes;
