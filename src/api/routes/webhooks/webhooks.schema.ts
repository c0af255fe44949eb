import { Type, type Static } from 'typebox';
import { Nullable, PageQuerySchema, UuidSchema } from '../../schemas/common.schema.js';
import { WEBHOOK_EVENT_TYPES, WebhookMessageSchema } from '../../../storage/webhook.schema.js';
import { MAX_WEBHOOK_ENDPOINTS_PER_TENANT } from '../../../storage/webhooks.repository.js';

export const WebhookEventTypeSchema = Type.Enum([...WEBHOOK_EVENT_TYPES], {
  title: 'WebhookEventType',
  description:
    'job.queued, job.running, job.cancelling, job.succeeded, job.failed, job.cancelled: a job entered that state (see the state machine in ' +
    'ARCHITECTURE.md; job.queued also when a job is handed back to the queue); job.epoch: an epoch ended, with its metrics; model.registered: ' +
    'a trained model became a version of a registered model; sweep.running, sweep.succeeded, sweep.failed, sweep.cancelled: a sweep started ' +
    'or ended in that state, with its progress and best trial; sweep.trial: a trial of a sweep ended (succeeded, early-stopped or not, failed ' +
    'or cancelled), with its parameters, objective and epochs and the best trial so far.',
});

const UrlSchema = Type.String({
  title: 'WebhookUrl',
  minLength: 1,
  maxLength: 2048,
  description:
    'Where messages are POSTed: an https URL (http only where the server sets WEBHOOK_ALLOW_HTTP=true), without user name or password. ' +
    'Its host must resolve to public addresses only (checked now and before every request), unless the server sets WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.',
  examples: ['https://example.com/trainyard/webhooks'],
});

const EventsSchema = Type.Array(WebhookEventTypeSchema, {
  title: 'WebhookEventTypes',
  minItems: 1,
  maxItems: WEBHOOK_EVENT_TYPES.length,
  uniqueItems: true,
  description: 'The event types it receives.',
});
const DescriptionSchema = Type.String({ minLength: 1, maxLength: 500, description: 'A note for people: what receives these messages.' });
const EnabledSchema = Type.Boolean({ description: 'A disabled endpoint receives nothing new; its pending deliveries fail at their next attempt.' });

export const CreateWebhookBodySchema = Type.Object(
  { url: UrlSchema, events: EventsSchema, description: Type.Optional(DescriptionSchema), enabled: Type.Optional(EnabledSchema) },
  { additionalProperties: false, examples: [{ url: 'https://example.com/trainyard/webhooks', events: ['job.succeeded', 'job.failed'] }] },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBodySchema>;

export const UpdateWebhookBodySchema = Type.Object(
  { url: Type.Optional(UrlSchema), events: Type.Optional(EventsSchema), description: Type.Optional(Nullable(DescriptionSchema)), enabled: Type.Optional(EnabledSchema) },
  { additionalProperties: false, minProperties: 1, examples: [{ events: ['job.succeeded', 'job.failed', 'model.registered'] }, { enabled: false }] },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBodySchema>;

const endpointFields = {
  id: UuidSchema,
  url: Type.String(),
  events: Type.Array(WebhookEventTypeSchema),
  description: Nullable(Type.String()),
  enabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  links: Type.Object({ self: Type.String(), deliveries: Type.String() }),
};

export const WebhookEndpointSchema = Type.Object(endpointFields, { title: 'WebhookEndpoint' });
export type WebhookEndpointView = Static<typeof WebhookEndpointSchema>;

export const WebhookEndpointWithSecretSchema = Type.Object(
  {
    ...endpointFields,
    secret: Type.String({
      description:
        'The signing secret (`whsec_` + base64), shown only in this answer: keep it. Each message carries webhook-id, webhook-timestamp and ' +
        'webhook-signature (`v1,` + base64 of HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the base64-decoded part ' +
        'after `whsec_`), as the Standard Webhooks specification describes; its libraries verify them.',
      examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJnVB5nSCGHw='],
    }),
  },
  { title: 'WebhookEndpointWithSecret' },
);
export type WebhookEndpointWithSecretView = Static<typeof WebhookEndpointWithSecretSchema>;

export const WebhookEndpointListSchema = Type.Object({
  items: Type.Array(WebhookEndpointSchema, { description: `Newest first; at most ${MAX_WEBHOOK_ENDPOINTS_PER_TENANT} per tenant.` }),
  nextCursor: Nullable(Type.String()),
});

export const WebhookDeliveryStatusSchema = Type.Enum(['pending', 'succeeded', 'failed'], {
  title: 'WebhookDeliveryStatus',
  description: 'pending: not sent yet, or waiting for its next attempt; succeeded: a 2xx answer; failed: retries ran out, or the URL was refused.',
});

export const WebhookAttemptSchema = Type.Object(
  {
    attempt: Type.Integer({ description: '1, 2, 3... over the delivery, redeliveries included.' }),
    round: Type.Integer({ description: '0 for the first sending, then one more per redelivery.' }),
    startedAt: Type.String({ format: 'date-time' }),
    durationMs: Type.Integer(),
    address: Nullable(Type.String({ description: 'The IP address connected to, after the network check.' })),
    statusCode: Nullable(Type.Integer({ description: "The receiver's HTTP status; null when no response came." })),
    responseBody: Nullable(Type.String({ description: 'The first 4 KiB of the response body.' })),
    error: Nullable(Type.String({ description: 'Why there was no usable answer: the URL refused, DNS, connection, timeout, a redirect (never followed).' })),
  },
  { title: 'WebhookAttempt' },
);

export const WebhookDeliverySchema = Type.Object(
  {
    id: UuidSchema,
    endpointId: UuidSchema,
    messageId: Type.String({ description: 'The webhook-id header: the same for every endpoint, retry and redelivery of one event.' }),
    eventType: WebhookEventTypeSchema,
    status: WebhookDeliveryStatusSchema,
    round: Type.Integer({ description: 'Redeliveries requested so far.' }),
    attemptCount: Type.Integer(),
    lastStatusCode: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    nextAttemptAt: Nullable(Type.String({ format: 'date-time', description: 'When a pending delivery is tried next.' })),
    createdAt: Type.String({ format: 'date-time' }),
    finishedAt: Nullable(Type.String({ format: 'date-time' })),
    payload: WebhookMessageSchema,
    attempts: Type.Array(WebhookAttemptSchema, { description: 'Oldest first.' }),
    links: Type.Object({ self: Type.String(), redeliver: Type.String() }),
  },
  { title: 'WebhookDelivery' },
);
export type WebhookDeliveryView = Static<typeof WebhookDeliverySchema>;

export const WebhookDeliveryListSchema = Type.Object({ items: Type.Array(WebhookDeliverySchema, { description: 'Newest event first.' }), nextCursor: Nullable(Type.String()) });

export const DeliveryListQuerySchema = Type.Object(
  {
    ...PageQuerySchema.properties,
    // Untitled copies: a query parameter's schema is published apart from its description.
    status: Type.Optional(Type.Enum(['pending', 'succeeded', 'failed'], { description: 'Only deliveries in this state.' })),
    eventType: Type.Optional(Type.Enum([...WEBHOOK_EVENT_TYPES], { description: 'Only deliveries of this event type.' })),
  },
  { additionalProperties: false },
);

export const DeliveryParamsSchema = Type.Object({ id: UuidSchema, deliveryId: UuidSchema }, { additionalProperties: false });
