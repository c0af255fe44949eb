import { Type, type Static } from 'typebox';
import { JobStatusEnum, SweepStatusEnum } from './prisma.js';

/**
 * What webhook messages carry. A message body is stored as the exact text
 * that is signed and sent (`webhook_deliveries.body`); this is its schema,
 * checked when a stored body is read back for the API.
 */

/** A job entered this state (one type per state of the job state machine). */
export const JOB_STATE_EVENT_TYPES = Object.values(JobStatusEnum).map((status) => `job.${status}` as const);

/** A sweep entered this state: started (`running`) or ended (one type per state of a sweep). */
export const SWEEP_STATE_EVENT_TYPES = Object.values(SweepStatusEnum).map((status) => `sweep.${status}` as const);

/**
 * Every event type an endpoint can subscribe to: the job's state changes,
 * each finished epoch with its metrics, a model registered as a version
 * of a registered model (on submission with `register`, or afterwards), a
 * sweep's start and end, and each finished trial of a sweep.
 */
export const WEBHOOK_EVENT_TYPES = [...JOB_STATE_EVENT_TYPES, 'job.epoch', 'model.registered', ...SWEEP_STATE_EVENT_TYPES, 'sweep.trial'] as const;
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
          'durationMs, samplesPerSec, learningRate for job.epoch. model.registered: name, version, modelId, jobId. sweep.<status>: sweepId, ' +
          'sweepName, status, algorithm, objective ({metric, goal}), maxTrials, parallelism, progress (trials in each state), best (the best ' +
          'trial so far: trial, jobId, modelId, params, objective, epochs; null before one succeeds) and error for sweep.failed. sweep.trial: ' +
          "sweepId, sweepName, trial (its index), jobId, eventId (the id of the trial job's final state event), status, params, metric, objective, " +
          "epochs (trained), earlyStopped, stopReason, modelId, error, and the sweep's progress and best trial with this one counted.",
      },
    ),
  },
  { title: 'WebhookMessage' },
);
export type WebhookMessage = Static<typeof WebhookMessageSchema>;
