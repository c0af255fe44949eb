import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { listWorkers, WorkerStatusSchema } from '../../../queue/worker-heartbeats.js';
import { jobIdsOfTenant } from '../../../storage/jobs.repository.js';

const WorkerViewSchema = Type.Object({
  ...WorkerStatusSchema.properties,
  activeJobs: Type.Integer({ description: 'Jobs it is training now, of every tenant.' }),
  activeJobIds: Type.Array(Type.String(), { description: "Those of the jobs it is training that are yours (other tenants' ids are not shown)." }),
});

/** Training workers alive on this queue, as their heartbeats in Redis report them. */
const workersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, redis, config } = app.services;

  app.get(
    '/v1/workers',
    {
      schema: {
        tags: ['workers'],
        operationId: 'listWorkers',
        summary: 'Training workers: host, engine (and SIMD), concurrency, what they are training',
        response: { 200: Type.Object({ items: Type.Array(WorkerViewSchema) }) },
      },
    },
    async (request) => {
      const workers = await listWorkers(redis, config.QUEUE_NAME);
      const ids = [...new Set(workers.flatMap((w) => w.activeJobIds))].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
      const mine = await jobIdsOfTenant(db, request.tenantId, ids);
      return { items: workers.map((w) => ({ ...w, activeJobs: w.activeJobIds.length, activeJobIds: w.activeJobIds.filter((id) => mine.has(id)) })) };
    },
  );
};

export default workersRoutes;
