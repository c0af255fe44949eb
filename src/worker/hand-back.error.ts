/**
 * Thrown by the trainer when its worker is shutting down: the attempt stops
 * after a batch, its last checkpoint stays, and the processor puts the job
 * back in the queue for another worker, without counting a failed attempt.
 */
export class HandBackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandBackError';
    Object.setPrototypeOf(this, HandBackError.prototype);
  }
}
