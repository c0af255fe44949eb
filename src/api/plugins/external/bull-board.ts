import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { sendProblem } from '../app/error-handler.js';
import { createWebhookQueue, webhookQueueName } from '../../../queue/webhook-queue.js';

/** Where the queue dashboard is mounted. */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

const REALM = 'Basic realm="Trainyard queues", charset="UTF-8"';

/**
 * The ADMIN_TOKEN from `Authorization: Bearer <token>` (scripts) or from the
 * password of `Authorization: Basic` (a browser asks for it: any user name,
 * the token as password, and sends it again with every page and API call of
 * the dashboard). null when the header is missing or carries neither.
 */
function presentedToken(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic) return null;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? null : decoded.slice(colon + 1);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * bull-board at /admin/queues: the training and webhook-delivery queues'
 * entries by state, their data, progress, failures and retries, for
 * operators holding ADMIN_TOKEN.
 * Job rows in PostgreSQL stay the truth: removing an entry here does not
 * cancel its job (POST /v1/jobs/{id}/cancel does), and the workers'
 * reconciler queues a `queued` job again when its entry is gone. Its routes
 * are not part of the API document. Registered encapsulated: its own error
 * handler and view engine stay inside.
 */
export default async function bullBoard(app: FastifyInstance) {
  const { config, queue, redis } = app.services;
  // The API only reads this queue here; the delivery process fills and drains it.
  const webhooks = createWebhookQueue(webhookQueueName(config.QUEUE_NAME), redis);
  webhooks.on('error', (err) => app.log.debug({ err: err.message }, 'webhook queue error'));
  app.addHook('onClose', async () => {
    await webhooks.close().catch(() => undefined);
  });

  // Runs before bull-board's own handlers, and answers in the API's problem format (bull-board's error handler would not).
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!config.ADMIN_TOKEN) {
      return sendProblem(reply, request, 403, 'admin-disabled', 'Forbidden', 'the queue dashboard is disabled: set ADMIN_TOKEN on the server');
    }
    const token = presentedToken(request.headers.authorization);
    if (token === null || !sameSecret(token, config.ADMIN_TOKEN)) {
      reply.header('www-authenticate', REALM);
      return sendProblem(
        reply,
        request,
        401,
        'unauthorized',
        'Unauthorized',
        token === null
          ? 'the queue dashboard needs ADMIN_TOKEN: as the password of HTTP Basic authentication (any user name), or Authorization: Bearer <ADMIN_TOKEN>'
          : "the token is not the server's ADMIN_TOKEN",
      );
    }
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queue, { displayName: `training (${config.QUEUE_NAME})` }), new BullMQAdapter(webhooks, { displayName: `webhook deliveries (${webhooks.name})` })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Trainyard' } },
  });
  await app.register(serverAdapter.registerPlugin());
}
