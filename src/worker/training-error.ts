import { UnrecoverableError } from 'bullmq';

/**
 * A failure that retrying cannot fix (the loss diverged, the data cannot
 * train, the spec cannot build). It keeps BullMQ's name so that it is not
 * retried even when thrown inside a sandboxed process, and carries a stable
 * `code` that is stored on the job.
 */
export class TrainingError extends UnrecoverableError {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'UnrecoverableError';
    this.code = code;
    Object.setPrototypeOf(this, TrainingError.prototype);
  }
}
