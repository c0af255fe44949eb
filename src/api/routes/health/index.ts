import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Redis } from 'ioredis';

const CheckSchema = Type.Object({ ok: Type.Boolean(), latencyMs: Type.Optional(Type.Number()), error: Type.Optional(Type.String()) });
const ReadySchema = Type.Object({
  status: Type.Enum(['ready', 'unavailable']),
  checks: Type.Object({ postgres: CheckSchema, redis: CheckSchema }),
  compute: Type.Object({
    threads: Type.Integer({ description: 'Worker threads for inference, image decoding and dataset parsing.' }),
    started: Type.Boolean({ description: 'Whether they run yet: the server starts them before it listens.' }),
  }),
  engine: Type.Optional(Type.Object({ name: Type.String(), version: Type.String() }, { additionalProperties: true, description: 'Engine of the compute threads, once started.' })),
});

const READY_TIMEOUT_MS = 2000;

async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; latencyMs?: number; error?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (err) {
    // The message says what failed (refused, timeout) without connection strings.
    return { ok: false, error: (err as Error).message.replace(/\w+:\/\/\S+/g, '<url>') };
  } finally {
    clearTimeout(timer);
  }
}

/** A connection still being made (just after start, or reconnecting) is waited for, within the check's timeout. */
async function pingRedis(redis: Redis): Promise<unknown> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (redis.status !== 'ready' && ['wait', 'connecting', 'connect', 'reconnecting'].includes(redis.status) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return redis.ping();
}

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, redis } = app.services;

  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'Liveness: the process is up', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: PostgreSQL and Redis are reachable',
        security: [],
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const [postgres, redisCheck] = await Promise.all([check(() => db.$queryRaw`SELECT 1`), check(() => pingRedis(redis))]);
      const ready = postgres.ok && redisCheck.ok;
      const { compute } = app.services;
      return reply.status(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'unavailable',
        checks: { postgres, redis: redisCheck },
        compute: { threads: compute.threads, started: compute.engine !== null },
        engine: compute.engine ?? undefined,
      });
    },
  );
};

export default healthRoutes;
