import { Type, type Static } from 'typebox';
import { JobStatusEnum } from './prisma.js';

/**
 * What webhook messages carry. A message body is stored as the exact text
 * that is signed and sent (`webhook_deliveries.body`); this is its schema,
 * checked when a stored body is read back for the API.
 */

/** A job entered this state (one type per state of the job state machine). */
export const JOB_STATE_EVENT_TYPES = Object.values(JobStatusEnum).map((status) => `job.${status}` as const);

/**
 * Every event type an endpoint can subscribe to: the job's state changes,
 * each finished epoch with its metrics, and a model registered as a version
 * of a registered model (on submission with `register`, or afterwards).
 */
export const WEBHOOK_EVENT_TYPES = [...JOB_STATE_EVENT_TYPES, 'job.epoch', 'model.registered'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
}

/** The body of every message, as the Standard Webhooks specification suggests: type, timestamp, data. */
export const WebhookMessageSchema = Type.Object(
  {
    type: Type.String({ description: 'The event type, e.g. job.succeeded.' }),
    timestamp: Type.String({ format: 'date-time', description: 'When the event happened.' }),
    data: Type.Object(
      {},
      {
        additionalProperties: true,
        description:
          'job.*: jobId, jobName, eventId (the id of the event in GET /v1/jobs/{id}/events, increasing with time) and what the event recorded: ' +
          'status, attempt, reason, error, modelId, testAccuracy, registeredAs for state changes; epoch, epochs, loss, accuracy, valLoss, valAccuracy, ' +
          'durationMs, samplesPerSec, learningRate for job.epoch. model.registered: name, version, modelId, jobId.',
      },
    ),
  },
  { title: 'WebhookMessage' },
);
export type WebhookMessage = Static<typeof WebhookMessageSchema>;
