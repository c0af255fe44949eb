import type { Redis } from 'ioredis';
import type { Db } from '../../storage/prisma.js';
import { pingDatabase } from '../../storage/db-health.js';
import type { ArtifactStore } from '../../storage/artifact-store.js';

const READY_TIMEOUT_MS = 2000;

export async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; latencyMs?: number; error?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (err) {
    // The message says what failed (refused, timeout) without connection strings.
    return { ok: false, error: (err as Error).message.replace(/\w+:\/\/\S+/g, '<url>') };
  } finally {
    clearTimeout(timer);
  }
}

/** A connection still being made (just after start, or reconnecting) is waited for, within the check's timeout. */
async function pingRedis(redis: Redis): Promise<unknown> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (redis.status !== 'ready' && ['wait', 'connecting', 'connect', 'reconnecting'].includes(redis.status) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return redis.ping();
}

export const checkPostgres = (db: Db) => check(() => pingDatabase(db));
export const checkRedis = (redis: Redis) => check(() => pingRedis(redis));
/** The artifact store: its bucket answers (object store), or its directory is writable (disk). */
export const checkStorage = (store: ArtifactStore) => check(() => store.ping());
