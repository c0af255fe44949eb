import { describe, expect, it } from 'vitest';
import { MAX_RETRY_DELAY_MS, retryDelay } from '../../src/worker/webhook-delivery.js';

describe('webhook retry schedule', () => {
  it('doubles the wait after each failed attempt, up to six hours', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(30_000, n))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000]);
    expect(retryDelay(30_000, 11)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelay(30_000, 40)).toBe(6 * 3_600_000);
  });

  it('with the defaults, retries for a day in thirteen attempts', () => {
    // Attempt times under the default schedule, ignoring request time: the first at 0, each next one a doubled wait later.
    const day = 24 * 3_600_000;
    let at = 0;
    let attempts = 1;
    while (at + retryDelay(30_000, attempts) <= day) at += retryDelay(30_000, attempts++);
    expect(attempts).toBe(13);
    expect(at).toBeGreaterThan(20 * 3_600_000);
  });
});
