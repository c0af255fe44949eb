/**
 * The object store (S3 or compatible) did not answer, or answered that it
 * cannot serve us (bucket gone, credentials refused, server error). The
 * message says which store and what happened, for logs; clients are told
 * only that the dependency is away (503 + Retry-After).
 *
 * It crosses thread boundaries as a plain object (structured clone drops the
 * class), so {@link isObjectStoreUnavailable} also recognises it by name.
 */
export class ObjectStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ObjectStoreUnavailableError';
    Object.setPrototypeOf(this, ObjectStoreUnavailableError.prototype);
  }
}

export function isObjectStoreUnavailable(error: unknown): boolean {
  return error instanceof ObjectStoreUnavailableError || (error !== null && typeof error === 'object' && (error as { name?: unknown }).name === 'ObjectStoreUnavailableError');
}
