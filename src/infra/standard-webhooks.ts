import { createHmac, randomBytes } from 'node:crypto';

/**
 * Signing of webhook messages as the Standard Webhooks specification
 * (standardwebhooks.com) describes it, so that receivers can verify them
 * with its libraries or a few lines of their own:
 *
 * - `webhook-id`: the message id, the same on every retry and redelivery
 *   (receivers deduplicate with it);
 * - `webhook-timestamp`: seconds since the epoch, when this attempt was signed
 *   (receivers refuse old ones, against replays);
 * - `webhook-signature`: `v1,` + base64 of HMAC-SHA256 over
 *   `<id>.<timestamp>.<body>`, keyed with the base64-decoded part of the
 *   secret after `whsec_`.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** 32 random bytes: the specification asks for 24 to 64. */
const SECRET_BYTES = 32;

export function newWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error(`a webhook secret starts with ${WEBHOOK_SECRET_PREFIX}`);
  return Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
}

/** `v1,<base64 signature>` of one message at one timestamp (seconds). */
export function signWebhook(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one attempt, signed at `now`. */
export function webhookHeaders(secret: string, messageId: string, body: string, now = new Date()): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return { 'webhook-id': messageId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(secret, messageId, timestamp, body) };
}
