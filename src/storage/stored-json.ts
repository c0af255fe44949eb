import type { TSchema, Static } from 'typebox';
import { Value } from 'typebox/value';
import { describeViolations, fieldName, typeboxViolations } from '../model-spec/schema-errors.js';

/** A stored JSON value that does not match its schema: a bug or a hand edit, never user input. */
export class StoredJsonError extends Error {
  constructor(what: string, detail: string) {
    super(`stored ${what} does not match its schema: ${detail}`);
    this.name = 'StoredJsonError';
    Object.setPrototypeOf(this, StoredJsonError.prototype);
  }
}

/** Checks a JSON column as it is read, so the rest of the code can trust its type. */
export function readStoredJson<S extends TSchema>(schema: S, value: unknown, what: string): Static<S> {
  if (Value.Check(schema, value)) return value as Static<S>;
  const [first] = describeViolations(typeboxViolations(schema, Value.Errors(schema, value)), value);
  throw new StoredJsonError(what, first ? `${fieldName(first.path) || 'the value'} ${first.complaint}` : 'invalid');
}
