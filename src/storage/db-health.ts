import type { Db } from './prisma.js';

/** Resolves when PostgreSQL answers a trivial query; rejects with the driver's error otherwise. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}

/** True when PostgreSQL answers a trivial query within `timeoutMs`. */
export async function databaseAnswers(db: Db, timeoutMs = 3000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      pingDatabase(db).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

const FIRST_WAIT_MS = 250;
const LONGEST_WAIT_MS = 5000;

/**
 * Resolves once PostgreSQL answers again, looking with exponential backoff
 * (250 ms doubling to 5 s), or as soon as `signal` aborts. Returns whether it answered.
 */
export async function waitForDatabase(db: Db, signal?: AbortSignal): Promise<boolean> {
  let wait = FIRST_WAIT_MS;
  for (;;) {
    if (signal?.aborted) return false;
    if (await databaseAnswers(db)) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
    wait = Math.min(wait * 2, LONGEST_WAIT_MS);
  }
}
