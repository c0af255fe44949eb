import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { ProblemError } from '../../errors/index.js';

/**
 * Per-key rate limits, counted in Redis so that every API process shares
 * them. Routes opt in with `config.rateLimit`. If Redis is unreachable the
 * limit is skipped rather than failing requests: the queue's own errors say
 * what is wrong.
 */
export default fp(
  async function rateLimitPlugin(app: FastifyInstance) {
    await app.register(rateLimit, {
      global: false,
      redis: app.services.redis,
      nameSpace: `trainyard:${app.services.config.QUEUE_NAME}:rate:`,
      skipOnError: true,
      hook: 'preHandler',
      keyGenerator: (request) => request.apiKeyId || request.ip,
      errorResponseBuilder: (_request, context) =>
        new ProblemError(
          429,
          'rate-limited',
          'Too Many Requests',
          `rate limit of ${context.max} requests per ${context.after} for this API key exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
          {
            limit: context.max,
            retryAfter: Math.ceil(context.ttl / 1000),
          },
        ),
    });
  },
  { name: 'rate-limit', dependencies: ['services', 'auth'] },
);
