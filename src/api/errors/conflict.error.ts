import { ProblemError } from './problem.error.js';

export class ConflictError extends ProblemError {
  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}, status = 409) {
    super(status, code, status === 422 ? 'Unprocessable Content' : 'Conflict', detail, extensions);
    this.name = 'ConflictError';
  }
}
