import { describe, expect, it } from 'vitest';
import { wallTimeLimitMs } from '../../src/worker/trainer.js';

describe('wallTimeLimitMs', () => {
  it.each<[number | undefined, number | null, number, number, string]>([
    [60, 86_400_000, 5_000, 60_000, "the job's own limit, in seconds"],
    [undefined, 1_000, 5_000, 1_000, 'the limit stored on the row, already ms'],
    [undefined, null, 5_000, 5_000, "the worker's default, ms"],
  ])('job %s s, row %s ms, worker %s ms -> %s ms (%s)', (job, row, worker, expected) => {
    expect(wallTimeLimitMs(job, row, worker)).toBe(expected);
  });
});
