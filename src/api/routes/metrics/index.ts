import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problems } from '../../schemas/common.schema.js';
import { UnauthorizedError } from '../../errors/index.js';
import { METRICS_ACCESS_DETAIL, metricsAccess } from '../../../infra/metrics.js';

/** Prometheus's scrape endpoint: open, or behind METRICS_TOKEN. */
const metricsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { metrics, config } = app.services;

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics of this API process',
        description:
          'The Prometheus text format: HTTP requests by route pattern and status, prediction latency, batch sizes and model-cache hits, ' +
          "this process's CPU, memory and event loop, and the deployment's jobs per state and tenant, queue entries per state and live " +
          'workers (read from PostgreSQL and Redis at scrape time: every API replica reports the same values). Open unless the server ' +
          'sets METRICS_TOKEN; then send `Authorization: Bearer <METRICS_TOKEN>`. Workers serve their own on WORKER_METRICS_PORT.',
        security: [],
        produces: ['text/plain; version=0.0.4'],
        response: { 200: Type.String({ description: 'Metrics in the Prometheus text exposition format.' }), ...problems(401) },
      },
      onRequest: async (request, reply) => {
        const access = metricsAccess(request.headers.authorization, config.METRICS_TOKEN);
        if (access === 'allowed') return;
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new UnauthorizedError(METRICS_ACCESS_DETAIL[access]);
      },
    },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(text);
    },
  );
};

export default metricsRoutes;
