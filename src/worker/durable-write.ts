import { dependencyOutage } from '../infra/dependency-outage.js';
import { databaseAnswers } from '../storage/db-health.js';
import type { Db } from '../storage/prisma.js';

const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 15_000;
/** A write that fails while PostgreSQL answers is a bug, not an outage: a few tries, then it is reported. */
const TRIES_WHILE_UP = 5;

export interface DurableWriteOptions {
  /** Stops retrying (the process is closing); the reconciler settles what is left. */
  stopped: () => boolean;
  onRetry?: (err: Error, attempt: number, waitMs: number) => void;
}

/**
 * Runs `write` until it lands. While PostgreSQL is away it retries for as
 * long as that lasts (backoff 0.5 s doubling to 15 s): a job's final state
 * must not be dropped because the database blinked when the job ended.
 * Rejects with the last error once `stopped()` or after a few failures
 * while the database answers.
 */
export async function writeUntilStored<T>(db: Db, write: () => Promise<T>, options: DurableWriteOptions): Promise<T> {
  let wait = FIRST_RETRY_MS;
  let failuresWhileUp = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const away = dependencyOutage(err) === 'PostgreSQL' || !(await databaseAnswers(db));
      if (!away) failuresWhileUp++;
      if (options.stopped() || failuresWhileUp >= TRIES_WHILE_UP) throw err;
      options.onRetry?.(err as Error, attempt, wait);
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
      wait = Math.min(wait * 2, LONGEST_RETRY_MS);
    }
  }
}
