import type { AppConfig } from '../../config/config.js';
import { OutboundAddressError, resolvePublicAddress } from '../../infra/outbound-address.js';
import type { WebhookDeliveryWithAttempts, WebhookEndpoint } from '../../storage/webhooks.repository.js';
import { isWebhookEventType, type WebhookEventType } from '../../storage/webhook.schema.js';
import { InvalidRequestError } from '../errors/index.js';
import type { WebhookDeliveryView, WebhookEndpointView, WebhookEndpointWithSecretView } from '../routes/webhooks/webhooks.schema.js';

/**
 * Checks a webhook URL as it is registered or changed: its form, and that
 * its host resolves to public addresses only (unless the server allows
 * private networks). The delivery process checks again before every
 * request. A refusal is a 400 naming the field.
 */
export async function checkWebhookUrl(config: AppConfig, url: string): Promise<void> {
  try {
    await resolvePublicAddress(url, { allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true', allowHttp: config.WEBHOOK_ALLOW_HTTP === 'true', field: 'url' });
  } catch (err) {
    if (!(err instanceof OutboundAddressError)) throw err;
    throw new InvalidRequestError(err.message, [{ field: 'url', message: err.message }]);
  }
}

const base = (id: string) => `/v1/webhooks/${id}`;

/** The stored event types, leaving out any a later version no longer knows. */
const eventsOf = (events: string[]): WebhookEventType[] => events.filter(isWebhookEventType);

export function endpointView(e: WebhookEndpoint): WebhookEndpointView {
  return {
    id: e.id,
    url: e.url,
    events: eventsOf(e.events),
    description: e.description,
    enabled: e.enabled,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    links: { self: base(e.id), deliveries: `${base(e.id)}/deliveries` },
  };
}

/** The endpoint with its secret: only in the answer that creates the secret. */
export function endpointWithSecretView(e: WebhookEndpoint): WebhookEndpointWithSecretView {
  return { ...endpointView(e), secret: e.secret };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function deliveryView(d: WebhookDeliveryWithAttempts): WebhookDeliveryView {
  const self = `${base(d.endpointId)}/deliveries/${d.id}`;
  return {
    id: d.id,
    endpointId: d.endpointId,
    messageId: d.messageId,
    // Written by emitWebhookEvent from the same list.
    eventType: d.eventType as WebhookEventType,
    status: d.status,
    round: d.round,
    attemptCount: d.attemptCount,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    createdAt: d.createdAt.toISOString(),
    finishedAt: iso(d.finishedAt),
    payload: d.message,
    attempts: d.attempts.map((a) => ({
      attempt: a.attempt,
      round: a.round,
      startedAt: a.startedAt.toISOString(),
      durationMs: a.durationMs,
      address: a.address,
      statusCode: a.statusCode,
      responseBody: a.responseBody,
      error: a.error,
    })),
    links: { self, redeliver: `${self}/redeliver` },
  };
}
