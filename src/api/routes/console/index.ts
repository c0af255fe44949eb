import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { NotFoundError } from '../../errors/index.js';
import { consoleBundle } from './console-bundle.js';

/**
 * The console's own policy, stricter than the API's default: scripts and
 * styles only from this origin (no inline code), requests only to this
 * origin, images from here or data: URLs (dataset thumbnails, drawn digits).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', CONSOLE_CSP).header('referrer-policy', 'no-referrer');
}

/**
 * The web console: `/` is the page, `/console/*` its script, stylesheet and
 * icon. Loading it needs no API key; the page asks for one and sends it with
 * every /v1 call it makes. Hidden from the OpenAPI document: it is not API.
 */
const consoleRoutes: FastifyPluginAsync = async (app) => {
  // Bundle while the server starts listening, so the first visitor does not wait for it.
  app.addHook('onListen', async () => {
    consoleBundle().catch((err) => app.log.error({ err }, 'the console could not be built'));
  });

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const bundle = await consoleBundle();
    return secure(reply).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(bundle.index);
  });

  app.get<{ Params: { file: string } }>('/console/:file', { schema: { hide: true } }, async (request, reply) => {
    const bundle = await consoleBundle();
    const asset = bundle.assets.get(request.params.file);
    if (!asset) throw new NotFoundError('console file', request.params.file);
    // Every name carries a hash of its content: a new build gets new names.
    return secure(reply).type(asset.contentType).header('cache-control', 'public, max-age=31536000, immutable').send(asset.body);
  });
};

export default consoleRoutes;
