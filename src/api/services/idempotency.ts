import { createHash } from 'node:crypto';
import { canonicalJson } from '../../infra/canonical-json.js';
import { isUniqueViolation } from '../../storage/prisma.js';
import { ConflictError } from '../errors/index.js';

/**
 * Idempotent submission, shared by POST /v1/jobs and POST /v1/sweeps. A
 * client that sends an `Idempotency-Key` may retry the request safely: the
 * resource it created is stored with the key (unique per tenant and kind of
 * resource) and a hash of the body, so the same key with the same body gets
 * that resource again, marked replayed, and the same key with another body
 * is refused, naming the resource the key belongs to.
 */

/** Response header of an answer that replays an earlier submission. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

/** Stable hash of a request body: same JSON, same hash, whatever the key order. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** What a submission stored with its key: the resource's id and the hash of its body. */
export interface KeyedResource {
  id: string;
  requestHash: string | null;
}

/** The key and hash a new resource is stored with (the hash also without a key). */
export interface SubmissionKey {
  idempotencyKey: string | null;
  requestHash: string;
}

export interface IdempotentSubmission<T> {
  resource: T;
  /** True when an earlier request with the same key created the resource. */
  replayed: boolean;
}

/**
 * Runs `create` once per key: with a key already used, answers its resource
 * (same body) or refuses (another body, 422 `idempotency-key-reused`)
 * without calling `create`. `create` stores the resource with the key and
 * hash it is given; when two requests with one key race, the unique
 * (tenant, key) index refuses the second insert and its request answers
 * like a replay.
 */
export async function submitIdempotently<T extends KeyedResource>(
  {
    kind,
    key,
    body,
    findByKey,
  }: {
    /** What is created, for the message: 'job', 'sweep'. */
    kind: string;
    key: string | undefined;
    body: unknown;
    /** The tenant's resource stored with `key`, or null. */
    findByKey: (key: string) => Promise<T | null>;
  },
  create: (keyed: SubmissionKey) => Promise<T>,
): Promise<IdempotentSubmission<T>> {
  const hash = requestHash(body);
  const replay = async (k: string): Promise<IdempotentSubmission<T> | null> => {
    const existing = await findByKey(k);
    if (!existing) return null;
    if (existing.requestHash !== hash) {
      throw new ConflictError(
        'idempotency-key-reused',
        `Idempotency-Key '${k}' was already used for a different request body (${kind} ${existing.id}); use a new key for a new ${kind}`,
        { [`${kind}Id`]: existing.id },
        422,
      );
    }
    return { resource: existing, replayed: true };
  };
  if (key) {
    const earlier = await replay(key);
    if (earlier) return earlier;
  }
  try {
    return { resource: await create({ idempotencyKey: key ?? null, requestHash: hash }), replayed: false };
  } catch (err) {
    // Two requests with one key at once: the loser answers like a replay.
    if (key && isUniqueViolation(err)) {
      const earlier = await replay(key);
      if (earlier) return earlier;
    }
    throw err;
  }
}
