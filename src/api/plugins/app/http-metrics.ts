import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/**
 * Times every answered request into trainyard_http_request_duration_seconds,
 * labelled with the route's pattern (never the URL, whose ids would make a
 * series per job or model). Measured when the response closes rather than in
 * onResponse, which Fastify skips for hijacked replies: event streams count too.
 */
export default fp(
  async function httpMetrics(app: FastifyInstance) {
    const { metrics } = app.services;
    app.addHook('onRequest', async (request, reply) => {
      const started = performance.now();
      reply.raw.once('close', () => metrics.request(request.method, request.routeOptions.url, reply.raw.statusCode, (performance.now() - started) / 1000));
    });
  },
  { name: 'http-metrics', dependencies: ['services'] },
);
