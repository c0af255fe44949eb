import { ProblemError } from './problem.error.js';

export class NotFoundError extends ProblemError {
  constructor(resource: string, id: string) {
    super(404, 'not-found', 'Not Found', `${resource} '${id}' does not exist`, { resource, id });
    this.name = 'NotFoundError';
  }
}
