import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';

/**
 * Security headers on every answer. The API serves JSON only, so its CSP can
 * be strict; Swagger UI under /docs sends its own CSP (hashes of its inline
 * code), which replaces this one on those pages.
 */
export default fp(
  async function helmetPlugin(app: FastifyInstance) {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", 'https:', "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
          frameAncestors: ["'none'"],
          // Trainyard is often served over plain http on a private network; upgrading would break the docs there.
          upgradeInsecureRequests: null,
        },
      },
      crossOriginResourcePolicy: { policy: 'same-site' },
    });
  },
  { name: 'helmet' },
);
