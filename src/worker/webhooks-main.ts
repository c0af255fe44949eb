import pino from 'pino';
import { loadConfig } from '../config/config.js';
import { webhookQueueName } from '../queue/webhook-queue.js';
import { startWebhookDelivery } from './webhook-delivery.js';

/**
 * `npm run webhooks`: the webhook delivery process. A process of its own,
 * not part of the training worker: it needs no training engine, starts in
 * a moment, and scales with the number of endpoints rather than with
 * training. Run one or more anywhere that reaches PostgreSQL, Redis and the
 * receivers.
 */
const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL, name: 'webhooks' });
const running = await startWebhookDelivery(config, log);
log.info({ queue: webhookQueueName(config.QUEUE_NAME), concurrency: config.WEBHOOK_CONCURRENCY }, 'webhook delivery ready');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'closing webhook delivery: requests in flight finish first');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS + 5000);
    await running.close();
    clearTimeout(force);
    process.exit(0);
  });
}
