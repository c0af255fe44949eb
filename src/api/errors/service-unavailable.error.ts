import { ProblemError } from './problem.error.js';

export class ServiceUnavailableError extends ProblemError {
  constructor(detail: string, retryAfterSeconds = 5) {
    super(503, 'service-unavailable', 'Service Unavailable', detail, { retryAfter: retryAfterSeconds });
    this.name = 'ServiceUnavailableError';
  }
}
