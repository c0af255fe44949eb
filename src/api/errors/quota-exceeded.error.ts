import { ProblemError } from './problem.error.js';

/** A tenant quota: `status` 429 for things that free up with time (queued, running jobs), 422 for sizes. */
export class QuotaExceededError extends ProblemError {
  constructor(quota: string, limit: number, value: number, detail: string, status: 422 | 429 = 422) {
    super(status, 'quota-exceeded', status === 429 ? 'Too Many Requests' : 'Quota Exceeded', detail, { quota, limit, value, ...(status === 429 ? { retryAfter: 30 } : {}) });
    this.name = 'QuotaExceededError';
  }
}
