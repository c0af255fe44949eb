import { isObjectStoreUnavailable } from './object-store-unavailable.error.js';

/**
 * Recognises the errors that mean a dependency is away (PostgreSQL, Redis or
 * the object store unreachable, its connection lost or exhausted), as
 * opposed to a bug. The API answers those with 503 and Retry-After, so
 * clients retry instead of reporting a 500; the worker waits for the
 * dependency and resumes the job instead of spending one of its attempts.
 */
export type Dependency = 'PostgreSQL' | 'Redis' | 'object store';

// Prisma's codes for "cannot reach / lost / timed out / pool exhausted".
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// What the pg driver adapter reports underneath.
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
// ioredis has no error codes for these; its messages are stable across versions.
const REDIS_MESSAGES = [/Stream isn't writeable/, /Connection is closed/, /Reached the max retries per request limit/, /connect ECONNREFUSED/, /Command timed out/];

interface MaybeError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown } } };
}

export function dependencyOutage(error: unknown): Dependency | null {
  if (error === null || typeof error !== 'object') return null;
  // The S3 store wraps every failure that is not "no such file" in this error.
  if (isObjectStoreUnavailable(error)) return 'object store';
  const e = error as MaybeError;
  const name = typeof e.name === 'string' ? e.name : '';
  if (name.startsWith('PrismaClient') || name === 'DriverAdapterError') {
    if (name === 'PrismaClientInitializationError') return 'PostgreSQL';
    if (typeof e.code === 'string' && PRISMA_CODES.has(e.code)) return 'PostgreSQL';
    const kind = e.meta?.driverAdapterError?.cause?.kind;
    return typeof kind === 'string' && ADAPTER_KINDS.has(kind) ? 'PostgreSQL' : null;
  }
  if (name === 'MaxRetriesPerRequestError') return 'Redis';
  const message = typeof e.message === 'string' ? e.message : '';
  return REDIS_MESSAGES.some((m) => m.test(message)) ? 'Redis' : null;
}
