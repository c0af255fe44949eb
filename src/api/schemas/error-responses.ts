import { operationsOf } from './openapi-document.js';

/**
 * The error answers of the OpenAPI document, one shared response per status
 * with a realistic example in the server's own wording: RFC 9457 problem
 * details, served as application/problem+json (see the error handler), and
 * on the TF Serving and KServe routes those protocols' `{"error": "..."}`,
 * served as application/json (see protocol-errors.ts).
 */
const ID = '3f8a1c2e-5b7d-4e9f-a1b2-c3d4e5f60718';

function problem(status: number, code: string, title: string, detail: string, instance: string, extensions: Record<string, unknown> = {}) {
  return { type: `urn:trainyard:problem:${code}`, title, status, detail, code, instance, ...extensions };
}

const KERNEL_SIZE = 'layer 0 (conv2d): kernelSize must be an integer from 1 to 4096 or a list of 2 integers, got "5"';

export const PROBLEM_RESPONSES: Record<number, { name: string; description: string; example: ReturnType<typeof problem> }> = {
  400: {
    name: 'InvalidRequest',
    description: 'The request is invalid: `detail` and `errors` name each field at fault and what it may be.',
    example: problem(400, 'invalid-request', 'Invalid Request', KERNEL_SIZE, '/v1/jobs', { errors: [{ field: 'model.layers[0].kernelSize', message: KERNEL_SIZE }] }),
  },
  401: {
    name: 'Unauthorized',
    description: 'No API key, or one that is not valid (admin routes: not the ADMIN_TOKEN).',
    example: problem(
      401,
      'unauthorized',
      'Unauthorized',
      'missing API key: send Authorization: Bearer <API key> (operators create keys with `npm run keys -- create`)',
      '/v1/jobs',
    ),
  },
  403: {
    name: 'Forbidden',
    description: 'The admin API is disabled on this server.',
    example: problem(403, 'admin-disabled', 'Forbidden', 'the admin API is disabled: set ADMIN_TOKEN on the server, or use `npm run keys`', '/v1/admin/tenants'),
  },
  404: {
    name: 'NotFound',
    description: 'No such resource for this API key.',
    example: problem(404, 'not-found', 'Not Found', `job '${ID}' does not exist`, `/v1/jobs/${ID}`, { resource: 'job', id: ID }),
  },
  409: {
    name: 'Conflict',
    description: 'The resource is in a state that does not allow this.',
    example: problem(409, 'job-finished', 'Conflict', `job ${ID} has already succeeded; only queued or running jobs can be cancelled`, `/v1/jobs/${ID}/cancel`),
  },
  413: {
    name: 'PayloadTooLarge',
    description: 'The request body is over the size limit.',
    example: problem(413, 'payload-too-large', 'Payload Too Large', 'the request body exceeds the limit of 8388608 bytes', '/v1/jobs'),
  },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The request body is not in a content type this route takes.',
    example: problem(415, 'unsupported-media-type', 'Unsupported Media Type', 'content type "text/plain" is not supported; send application/json', '/v1/jobs'),
  },
  416: {
    name: 'RangeNotSatisfiable',
    description: 'The Range header asks for bytes past the end of the file; Content-Range says its size (`bytes */<size>`).',
    example: problem(
      416,
      'range-not-satisfiable',
      'Range Not Satisfiable',
      'weights.bin has 13480 bytes; the Range header asks for none of them',
      `/v1/models/${ID}/artifact/weights.bin`,
      {
        size: 13480,
      },
    ),
  },
  422: {
    name: 'UnprocessableContent',
    description: 'Valid, but over a quota of the tenant, or an idempotency key reused with another body.',
    example: problem(422, 'quota-exceeded', 'Quota Exceeded', "the model has 3,274,634 parameters; tenant 'acme' may train at most 1,000,000", '/v1/jobs', {
      quota: 'maxParams',
      limit: 1_000_000,
      value: 3_274_634,
    }),
  },
  429: {
    name: 'TooManyRequests',
    description: 'Rate limit or queued-jobs quota reached: retry after `retryAfter` seconds (also the Retry-After header).',
    example: problem(429, 'rate-limited', 'Too Many Requests', 'rate limit of 60 requests per 1 minute for this API key exceeded; retry in 42 s', '/v1/jobs', {
      limit: 60,
      retryAfter: 42,
    }),
  },
};

/** The `{"error": ...}` answers of /tfserving and /v2: same statuses and messages, the protocols' own shape. */
const PROTOCOL_ERRORS: Record<number, { name: string; description: string; example: { error: string } }> = {
  400: { name: 'ProtocolBadRequest', description: 'The request is invalid; `error` names the field or input at fault.', example: { error: '(body) must be an object, got []' } },
  401: { name: 'ProtocolUnauthorized', description: 'No API key, or one that is not valid.', example: { error: PROBLEM_RESPONSES[401].example.detail } },
  404: {
    name: 'ProtocolNotFound',
    description: 'No such registered model, version or label for this API key.',
    example: { error: "model 'digits' (latest version) is not registered for this API key's tenant; see GET /v1/registered-models" },
  },
  413: { name: 'ProtocolPayloadTooLarge', description: PROBLEM_RESPONSES[413].description, example: { error: PROBLEM_RESPONSES[413].example.detail } },
  429: {
    name: 'ProtocolTooManyRequests',
    description: 'Rate limit reached: retry after the Retry-After header.',
    example: { error: 'rate limit of 1200 requests per 1 minute for this API key exceeded; retry in 42 s' },
  },
};

const SHARED = [
  { ref: '#/components/schemas/Problem', mediaType: 'application/problem+json', responses: PROBLEM_RESPONSES, what: 'PROBLEM_RESPONSES' },
  { ref: '#/components/schemas/ProtocolError', mediaType: 'application/json', responses: PROTOCOL_ERRORS, what: 'PROTOCOL_ERRORS' },
];

type Response = { $ref?: string; content?: Record<string, { schema?: { $ref?: string } }> };

/** Replaces every error response whose schema is Problem or ProtocolError with a `$ref` to the shared response of its status. */
export function useSharedErrorResponses<T extends Record<string, unknown>>(doc: T): T {
  const used = new Map<string, object>();
  for (const { method, path, operation } of operationsOf(doc as never)) {
    const responses = (operation.responses ?? {}) as Record<string, Response>;
    for (const [key, response] of Object.entries(responses)) {
      // Routes that stream or send files declare their media type for every status; their errors are problem+json all the same.
      const refs = Object.values(response.content ?? {}).map((media) => media.schema?.$ref);
      const shape = SHARED.find((s) => refs.includes(s.ref));
      if (!shape) continue;
      const shared = shape.responses[Number(key)];
      if (!shared) throw new Error(`openapi: ${method.toUpperCase()} ${path} answers ${key} with ${shape.ref}: add the status to ${shape.what}`);
      responses[key] = { $ref: `#/components/responses/${shared.name}` };
      used.set(shared.name, { description: shared.description, content: { [shape.mediaType]: { schema: { $ref: shape.ref }, example: shared.example } } });
    }
  }
  const withComponents = doc as { components?: Record<string, unknown> };
  withComponents.components ??= {};
  const components = withComponents.components;
  components.responses = Object.fromEntries([...used].sort(([a], [b]) => a.localeCompare(b)));
  return doc;
}
