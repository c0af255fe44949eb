import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/**
 * Times every answered request into trainyard_http_request_duration_seconds,
 * labelled with the route's pattern (never the URL, whose ids would make a
 * series per job or model).
 */
export default fp(
  async function httpMetrics(app: FastifyInstance) {
    const { metrics } = app.services;
    app.addHook('onResponse', async (request, reply) => {
      metrics.request(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    });
  },
  { name: 'http-metrics', dependencies: ['services'] },
);
