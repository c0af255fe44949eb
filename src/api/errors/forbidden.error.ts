import { ProblemError } from './problem.error.js';

export class ForbiddenError extends ProblemError {
  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(403, code, 'Forbidden', detail, extensions);
    this.name = 'ForbiddenError';
  }
}
