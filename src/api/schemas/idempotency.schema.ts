import { Type } from 'typebox';

/** Longest Idempotency-Key accepted. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 200;

/** The request headers of a submission that takes an Idempotency-Key (src/api/services/idempotency.ts); `kind` names what it creates. */
export function idempotencyHeadersSchema(kind: 'job' | 'sweep') {
  return Type.Object({
    'idempotency-key': Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
        description:
          `Makes the submission safe to retry: the same key and body return the same ${kind} (with the response header ` +
          `\`idempotent-replayed: true\`); the same key with another body is a 422. Keys are per tenant, 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters.`,
      }),
    ),
  });
}
