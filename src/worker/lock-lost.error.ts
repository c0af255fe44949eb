/**
 * The abort reason the worker gives a job whose queue lock it could not
 * renew (Redis restarted empty, or the lock expired and another worker may
 * own the job now). It crosses into the sandbox as the abort signal's reason.
 */
export const LOCK_LOST = 'trainyard:lock-lost';

/**
 * Thrown by the trainer after it stopped because its queue lock was lost.
 * The attempt ends without touching the row or the queue entry: either
 * another worker owns the job now, or the reconciler re-queues it from its
 * checkpoint (see reconciler.ts).
 */
export class LockLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockLostError';
    Object.setPrototypeOf(this, LockLostError.prototype);
  }
}
