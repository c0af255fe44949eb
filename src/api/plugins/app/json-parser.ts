import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { InvalidRequestError } from '../../errors/index.js';
import { formatCount } from '../../../model-spec/index.js';

export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_ARRAY = 200_000;

/** What no field of a request may hold: text PostgreSQL cannot store, or a number JSON overflowed. */
type Offence = 'nul' | 'surrogate' | 'overflow';

// In a `u` regular expression a well-formed surrogate pair is one code point: \p{Cs} matches only lone halves.
const LONE_SURROGATE = /\p{Cs}/u;

export function offenceOf(value: unknown): Offence | null {
  if (typeof value === 'string') return value.includes('\u0000') ? 'nul' : LONE_SURROGATE.test(value) ? 'surrogate' : null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'overflow';
  return null;
}

/** The 400 for an offending value at `field`: what is wrong, and what to send instead. */
export function offenceError(field: string, offence: Offence): InvalidRequestError {
  const message =
    offence === 'nul'
      ? `${field} contains a NUL character (\\u0000), which text fields cannot hold; remove it`
      : offence === 'surrogate'
        ? `${field} contains an unpaired UTF-16 surrogate, which is not valid Unicode; send valid UTF-8 text`
        : `${field} is a number too large to represent (it overflows to Infinity); numbers must be finite`;
  return new InvalidRequestError(message, [{ field, message }]);
}

const fieldOf = (path: (string | number)[]) => path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(body)';

/** Where the first offending value (or key) is, for the error: only run once one was found. */
function locate(root: unknown): { field: string; offence: Offence } | null {
  const stack: [unknown, (string | number)[]][] = [[root, []]];
  while (stack.length) {
    const [node, path] = stack.pop()!;
    const offence = offenceOf(node);
    if (offence) return { field: fieldOf(path), offence };
    if (node === null || typeof node !== 'object') continue;
    const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, value] = entries[i];
      const keyOffence = offenceOf(key);
      if (keyOffence) return { field: `${fieldOf(path)} (a key)`, offence: keyOffence };
      stack.push([value, [...path, key]]);
    }
  }
  return null;
}

/**
 * Walks without recursion, so a hostile nesting cannot overflow the stack.
 * Bounds depth and array lengths, and finds text fields with NUL or lone
 * surrogates (PostgreSQL refuses them: a 500 otherwise) and numbers that
 * overflowed to Infinity.
 */
function checkShape(root: unknown): void {
  const stack: [unknown, number][] = [[root, 1]];
  let offended = offenceOf(root) !== null;
  while (stack.length && !offended) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) throw new InvalidRequestError(`the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`, [], 'invalid-json');
    if (Array.isArray(node)) {
      if (node.length > MAX_JSON_ARRAY)
        throw new InvalidRequestError(`the JSON body has an array of ${formatCount(node.length)} items; at most ${formatCount(MAX_JSON_ARRAY)} are accepted`, [], 'invalid-json');
      // Numbers and strings are most of a predict body: only containers go on the stack.
      for (const item of node) {
        if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
        else if (offenceOf(item)) offended = true;
      }
    } else {
      for (const [key, value] of Object.entries(node)) {
        if (offenceOf(key)) offended = true;
        if (value !== null && typeof value === 'object') stack.push([value, depth + 1]);
        else if (offenceOf(value)) offended = true;
      }
    }
  }
  if (offended) {
    const found = locate(root);
    if (found) throw offenceError(found.field, found.offence);
  }
}

/**
 * JSON bodies: prototype-poisoning keys rejected (as Fastify's own parser
 * does), nesting depth and array lengths bounded, text and numbers that
 * cannot be stored refused with the field named.
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) return done(new InvalidRequestError('the request body is empty; send a JSON object', [], 'invalid-request'), undefined);
    let parsed: unknown;
    try {
      parsed = sjson.parse(text, null, { protoAction: 'error', constructorAction: 'error' });
    } catch (err) {
      return done(new InvalidRequestError(`the request body is not valid JSON: ${(err as Error).message}`, [], 'invalid-json'), undefined);
    }
    try {
      checkShape(parsed);
    } catch (err) {
      return done(err as Error, undefined);
    }
    done(null, parsed);
  });

  // Query strings and path segments decode %00 and lone %ED%A0%80-style escapes too.
  app.addHook('preValidation', async (request) => {
    for (const [part, values] of [
      ['query', request.query],
      ['path', request.params],
    ] as const) {
      if (!values || typeof values !== 'object') continue;
      for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
        for (const v of Array.isArray(value) ? value : [value]) {
          const offence = offenceOf(v) ?? offenceOf(key);
          if (offence) throw offenceError(`${part}.${key}`, offence);
        }
      }
    }
  });
}
