import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { InvalidRequestError } from '../../errors/index.js';
import { formatCount } from '../../../spec/index.js';

export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_ARRAY = 200_000;

/** Walks without recursion, so a hostile nesting cannot overflow the stack. */
function checkShape(root: unknown): void {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) throw new InvalidRequestError(`the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`, [], 'invalid-json');
    if (Array.isArray(node)) {
      if (node.length > MAX_JSON_ARRAY) throw new InvalidRequestError(`the JSON body has an array of ${formatCount(node.length)} items; at most ${formatCount(MAX_JSON_ARRAY)} are accepted`, [], 'invalid-json');
      // Numbers and strings are most of a predict body: only containers go on the stack.
      for (const item of node) if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
    } else {
      for (const value of Object.values(node)) if (value !== null && typeof value === 'object') stack.push([value, depth + 1]);
    }
  }
}

/**
 * JSON bodies: prototype-poisoning keys rejected (as Fastify's own parser
 * does), nesting depth and array lengths bounded.
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
}
