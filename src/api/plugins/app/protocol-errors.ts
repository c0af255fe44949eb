import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { problemOf } from './error-handler.js';

/** The error body of TF Serving's REST API and of the Open Inference Protocol (KServe v2): `{"error": "..."}`. */
export const ProtocolErrorSchema = Type.Object(
  { error: Type.String({ description: 'What went wrong, naming the input or field at fault.' }) },
  { title: 'ProtocolError', additionalProperties: false },
);

export function protocolErrors(...statuses: number[]): Record<number, typeof ProtocolErrorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProtocolErrorSchema]));
}

/**
 * Inside one protocol's plugin, every error (a bad body, an unknown model, a
 * missing API key, a rate limit, an unknown route) answers in that
 * protocol's own shape, with the same status and message the rest of the
 * API would give. Standard clients read `error`; they know no problem+json.
 */
export function useProtocolErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const [status, , , detail, extensions] = problemOf(error, request);
    if (typeof extensions.retryAfter === 'number') reply.header('retry-after', String(extensions.retryAfter));
    return reply.status(status).type('application/json').send({ error: detail });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .type('application/json')
      .send({ error: `no route ${request.method} ${request.url.split('?')[0]}; see /docs` }),
  );
}
