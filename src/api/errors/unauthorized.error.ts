import { ProblemError } from './problem.error.js';

export class UnauthorizedError extends ProblemError {
  constructor(detail: string) {
    super(401, 'unauthorized', 'Unauthorized', detail);
    this.name = 'UnauthorizedError';
  }
}
