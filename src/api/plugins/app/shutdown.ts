import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { ServiceUnavailableError } from '../../errors/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Starts a graceful shutdown: for `ms`, every new request except
     * /healthz and /readyz is answered 503 with `Connection: close` and Retry-After,
     * while the listener stays open. Resolves when the drain is over; then
     * close the app.
     */
    drain(ms: number): Promise<void>;
    readonly draining: boolean;
  }
}

/**
 * Closing a listening socket resets the connections still waiting in its
 * accept queue: requests sent a moment before SIGTERM would be lost without
 * an answer. Draining first answers every one of them.
 */
export default fp(
  async function shutdown(app: FastifyInstance) {
    let draining = false;
    app.decorate('draining', {
      getter: () => draining,
    });
    app.decorate('drain', async (ms: number) => {
      draining = true;
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    });
    app.addHook('onRequest', async (request, reply) => {
      // Liveness stays true, and readiness says why it is false, in their own shapes.
      if (!draining || request.url === '/healthz' || request.url === '/readyz') return;
      reply.header('connection', 'close');
      throw new ServiceUnavailableError('this API process is shutting down; retry the request (another process, or this service once restarted, will answer)', 1);
    });
  },
  { name: 'shutdown', dependencies: ['error-handler'] },
);
