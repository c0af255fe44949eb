import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { publishOpenApiDocument } from '../../schemas/openapi-components.js';

export const OPENAPI_INFO = {
  title: 'Trainyard API',
  version: '0.1.0',
  description:
    'Self-hosted training of convolutional networks. Describe a model as JSON, submit it as a job, ' +
    'follow its progress, then predict with the trained model. Errors are RFC 9457 problem details ' +
    '(application/problem+json). TypeScript types: `npx openapi-typescript openapi.yaml --default-non-nullable=false` ' +
    '(fields with a default are optional in requests).',
};

export default fp(
  async function swaggerPlugin(app: FastifyInstance) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: OPENAPI_INFO,
        // Self-hosted: the API is served from wherever this document is.
        servers: [{ url: '/', description: 'This server' }],
        tags: [
          { name: 'jobs', description: 'Submit training jobs and follow them' },
          { name: 'sweeps', description: 'Hyperparameter searches whose trials are jobs: grid, random and TPE, with ASHA or median early stopping' },
          { name: 'models', description: 'Trained models: describe, download, predict' },
          { name: 'plan', description: 'Shapes and parameter counts of a model, without training' },
          { name: 'datasets', description: 'Data to train on' },
          { name: 'workers', description: 'Training workers and their engines' },
          { name: 'webhooks', description: 'Signed messages about jobs and models, sent to your endpoints (Standard Webhooks)' },
          { name: 'health', description: 'Liveness and readiness' },
          { name: 'admin', description: 'Operators: tenants and API keys (ADMIN_TOKEN)' },
        ],
        components: {
          securitySchemes: {
            apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer ty_...`. Operators create keys with `npm run keys -- create`.' },
            adminToken: { type: 'http', scheme: 'bearer', description: "The server's ADMIN_TOKEN." },
          },
        },
        security: [{ apiKey: [] }],
      },
      // /docs/json and openapi.yaml both go through this: named components, prefixItems, oneOf instead of if/then/else.
      transformObject: (document) => publishOpenApiDocument('openapiObject' in document ? document.openapiObject : document.swaggerObject),
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      // Served over plain http on private networks: do not ask browsers to upgrade to https.
      transformStaticCSP: (header) => header.replace(/;?\s*upgrade-insecure-requests;?/, ';').replace(/;\s*;/g, ';'),
      uiConfig: { persistAuthorization: true, displayRequestDuration: true },
    });
  },
  { name: 'swagger' },
);
