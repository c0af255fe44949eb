import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook, webhookHeaders } from '../../src/infra/standard-webhooks.js';

describe('Standard Webhooks signatures', () => {
  it("matches the specification's published example", () => {
    // The example of the specification's reference libraries: secret, id, timestamp, body and the signature they expect.
    expect(signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('makes secrets of 32 random bytes after whsec_', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });

  it('signs the headers with the timestamp it sends', () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders(secret, 'msg_1', '{"a":1}', new Date(1_700_000_000_999));
    expect(headers['webhook-timestamp']).toBe('1700000000');
    expect(headers['webhook-signature']).toBe(signWebhook(secret, 'msg_1', 1_700_000_000, '{"a":1}'));
    expect(() => signWebhook('nope', 'msg_1', 1, '')).toThrow('a webhook secret starts with whsec_');
  });
});
