import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findActiveKey, touchKey } from '../../../storage/api-keys.repository.js';
import { ForbiddenError, UnauthorizedError } from '../../errors/index.js';
import { ProblemSchema } from '../../schemas/common.schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Forgets every looked-up key: call after revoking one. */
    forgetApiKeys(): void;
  }
  interface FastifyRequest {
    /** Owner of everything the request reads or creates, from its API key. */
    tenantId: string;
    apiKeyId: string;
  }
}

const TOUCH_EVERY_MS = 60_000;

/** Routes that act for a tenant: the /v1 API and the model-serving protocols (their health and server metadata stay open). */
export function needsApiKey(route: string): boolean {
  return route.startsWith('/v1/') || route.startsWith('/tfserving/') || route.startsWith('/v2/models');
}

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthorizedError("the Authorization header must be 'Bearer <API key>'");
  return match[1];
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Every /v1 route, and every TF Serving and KServe model route, needs an API
 * key (Authorization: Bearer <key>) and acts for the key's tenant; /v1/admin routes need ADMIN_TOKEN instead. Health
 * checks and the docs stay open.
 */
export default fp(
  async function auth(app: FastifyInstance) {
    const { db, config } = app.services;
    // At thousands of predicts a second, one database round trip per request would cost more than the prediction.
    type ActiveKey = Awaited<ReturnType<typeof findActiveKey>>;
    const known = new Map<string, { key: Promise<ActiveKey>; expires: number }>();
    const lookUp = (token: string): Promise<ActiveKey> => {
      if (config.API_KEY_CACHE_MS === 0) return findActiveKey(db, token);
      const now = Date.now();
      const hit = known.get(token);
      if (hit && hit.expires > now) return hit.key;
      if (known.size >= 10_000) known.clear();
      const key = findActiveKey(db, token);
      const entry = { key, expires: now + config.API_KEY_CACHE_MS };
      known.set(token, entry);
      // Unknown keys and failed lookups are not remembered.
      key.then(
        (k) => k === null && known.get(token) === entry && known.delete(token),
        () => known.get(token) === entry && known.delete(token),
      );
      return key;
    };
    app.decorate('forgetApiKeys', () => known.clear());
    app.decorateRequest('tenantId', '');
    app.decorateRequest('apiKeyId', '');

    // Every protected route documents its auth failures, without each route repeating them.
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/v1/') || !route.schema) return;
      const schema = route.schema as { response?: Record<string, unknown> };
      schema.response ??= {};
      const response = schema.response;
      response[401] ??= ProblemSchema;
      if (route.url.startsWith('/v1/admin/')) response[403] ??= ProblemSchema;
    });

    app.addHook('onRequest', async (request) => {
      const route = request.routeOptions.url;
      if (!route || !needsApiKey(route)) return;
      const token = bearer(request);
      if (route.startsWith('/v1/admin/')) {
        if (!config.ADMIN_TOKEN) throw new ForbiddenError('admin-disabled', 'the admin API is disabled: set ADMIN_TOKEN on the server, or use `npm run keys`');
        if (!token || !sameSecret(token, config.ADMIN_TOKEN)) throw new UnauthorizedError('the admin API needs Authorization: Bearer <ADMIN_TOKEN>');
        return;
      }
      if (!token) throw new UnauthorizedError('missing API key: send Authorization: Bearer <API key> (operators create keys with `npm run keys -- create`)');
      const key = await lookUp(token);
      if (!key) throw new UnauthorizedError('the API key is not valid or has been revoked');
      request.tenantId = key.tenantId;
      request.apiKeyId = key.id;
      if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
        key.lastUsedAt = new Date();
        touchKey(db, key.id).catch((err) => request.log.warn({ err: err.message }, 'could not record key use'));
      }
    });
  },
  { name: 'auth', dependencies: ['services'] },
);
