import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { ProblemError, type FieldProblem } from '../../errors/index.js';
import { describeValidationErrors, pointerToField } from './validation.js';
import { SpecError } from '../../../model-spec/index.js';
import { dependencyOutage } from '../../../infra/dependency-outage.js';

/** What a client is told to wait before retrying while PostgreSQL or Redis is away. */
const OUTAGE_RETRY_AFTER_S = 5;

/**
 * One error shape for the whole API: RFC 9457 problem details
 * (application/problem+json) with a stable `code`. 5xx answers never carry
 * internals; those go to the log with the request id.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  [extension: string]: unknown;
}

const PART_PREFIX: Record<string, string> = { body: '', querystring: 'query', params: 'path', headers: 'header' };

function problemType(code: string): string {
  return `urn:trainyard:problem:${code}`;
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  status: number,
  code: string,
  title: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): FastifyReply {
  const body: ProblemBody = { type: problemType(code), title, status, detail, code, instance: request.url, ...extensions };
  if (typeof extensions.retryAfter === 'number') reply.header('retry-after', String(extensions.retryAfter));
  return reply.status(status).type('application/problem+json').send(body);
}

function fromFastifyError(error: FastifyError, request: FastifyRequest): [number, string, string, string, Record<string, unknown>] {
  if (error.validation) {
    const prefix = PART_PREFIX[error.validationContext ?? 'body'] ?? '';
    const root = error.validationContext === 'querystring' ? request.query : error.validationContext === 'params' ? request.params : request.body;
    const errors: FieldProblem[] = describeValidationErrors(error.validation as ErrorObject[], root, prefix);
    return [400, 'invalid-request', 'Invalid Request', errors[0]?.message ?? 'the request is invalid', { errors }];
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, 'payload-too-large', 'Payload Too Large', `the request body exceeds the limit of ${request.routeOptions.bodyLimit ?? '?'} bytes`, {}];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [
        415,
        'unsupported-media-type',
        'Unsupported Media Type',
        `content type ${JSON.stringify(request.headers['content-type'] ?? '')} is not supported; send application/json`,
        {},
      ];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [400, 'invalid-request', 'Invalid Request', 'the request body is empty; send a JSON object', {}];
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [400, 'invalid-json', 'Invalid JSON', `the request body is not valid JSON: ${error.message}`, {}];
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return [400, 'invalid-json', 'Invalid JSON', `the request body is not valid JSON: ${error.message}`, {}];
  }
  if (error.statusCode === 413) {
    return [413, 'payload-too-large', 'Payload Too Large', error.message, {}];
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return [error.statusCode, 'bad-request', 'Bad Request', error.message, {}];
  }
  return [500, 'internal', 'Internal Server Error', 'the server failed to handle this request; it has been logged', {}];
}

/** Problem extensions of a SpecError found in the document at `prefix` ("model", "training" or the body). */
export function specErrorExtensions(error: SpecError, prefix: string): Record<string, unknown> {
  const field = error.path ? pointerToField(error.path, prefix) : prefix || '(body)';
  return {
    errors: [{ field, message: error.message }],
    ...(error.layerIndex !== undefined ? { layer: { index: error.layerIndex, type: error.layerType, name: error.layerName } } : {}),
  };
}

/**
 * What any error means for the client: status, stable code, title, detail
 * and extensions. Logs 5xx causes. Routes that speak another protocol's
 * error shape (TF Serving, KServe) send the same facts in their own body.
 */
export function problemOf(error: FastifyError, request: FastifyRequest): [number, string, string, string, Record<string, unknown>] {
  if (error instanceof ProblemError) {
    if (error.status >= 500) request.log.error({ err: error }, 'request failed');
    return [error.status, error.code, error.title, error.message, error.extensions];
  }
  if (error instanceof SpecError) {
    // A spec checked on its own (POST /v1/plan): its path is relative to the body.
    return [400, 'invalid-spec', 'Invalid Model Spec', error.message, specErrorExtensions(error, '')];
  }
  const away = dependencyOutage(error);
  if (away) {
    request.log.warn({ err: error.message }, `${away} unreachable`);
    return [503, 'service-unavailable', 'Service Unavailable', `${away} is unreachable right now; retry in a few seconds`, { retryAfter: OUTAGE_RETRY_AFTER_S, dependency: away }];
  }
  const problem = fromFastifyError(error, request);
  if (problem[0] >= 500) request.log.error({ err: error }, 'request failed');
  return problem;
}

export default fp(
  async function errorHandler(app: FastifyInstance) {
    app.setErrorHandler((error: FastifyError, request, reply) => sendProblem(reply, request, ...problemOf(error, request)));

    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, request, 404, 'route-not-found', 'Not Found', `no route ${request.method} ${request.url.split('?')[0]}; see /docs`),
    );
  },
  { name: 'error-handler' },
);
