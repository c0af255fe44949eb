import { Redis, type RedisOptions } from 'ioredis';

/**
 * Producers (the API) fail fast when Redis is away, so a request gets a clear
 * 503 instead of hanging; workers wait forever, as BullMQ requires.
 */
export function createRedis(url: string, role: 'producer' | 'worker', extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    role === 'producer' ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, ...extra } : { maxRetriesPerRequest: null, ...extra };
  return new Redis(url, options);
}
