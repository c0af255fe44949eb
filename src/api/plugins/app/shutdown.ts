import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { ServiceUnavailableError } from '../../errors/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Starts a graceful shutdown: every new request except /healthz and
     * /readyz is answered 503 with `Connection: close` and Retry-After,
     * while the listener stays open, for at least `minMs` and until no new
     * connection has arrived for a moment (at most `maxMs`). Then close the app.
     */
    drain(minMs: number, maxMs: number): Promise<void>;
    readonly draining: boolean;
  }
}

/** A listener is closed only after this long without a new connection: its accept queue is empty by then. */
const QUIET_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Closing a listening socket resets the connections still waiting in its
 * accept queue: requests sent a moment before SIGTERM would be lost without
 * an answer. Draining first answers every one of them. A busy process
 * accepts late, so the drain lasts until connections stop arriving, not a
 * fixed time.
 */
export default fp(
  async function shutdown(app: FastifyInstance) {
    let draining = false;
    let lastConnection = 0;
    app.server.on('connection', () => {
      lastConnection = performance.now();
    });
    app.decorate('draining', {
      getter: () => draining,
    });
    app.decorate('drain', async (minMs: number, maxMs: number) => {
      draining = true;
      const started = performance.now();
      await sleep(minMs);
      while (performance.now() - lastConnection < QUIET_MS && performance.now() - started < maxMs) await sleep(50);
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
