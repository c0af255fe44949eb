import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppConfig } from '../config/config.js';
import swagger from './plugins/external/swagger.js';
import errorHandler from './plugins/app/error-handler.js';
import services from './plugins/app/services.js';
import { validatorCompiler } from './plugins/app/validation.js';
import healthRoutes from './routes/health/index.js';
import jobsRoutes from './routes/jobs/index.js';
import jobEventsRoutes from './routes/jobs/events.js';
import modelsRoutes from './routes/models/index.js';
import datasetsRoutes from './routes/datasets/index.js';
import planRoutes from './routes/plan/index.js';

export interface AppOptions {
  config: AppConfig;
  /** Tenant that owns every request until API keys exist; tests use one of their own. */
  tenant?: string;
}

/** The whole API as one plugin: shared plugins first, then encapsulated routes. */
export const appPlugin = fp(async function trainyard(app: FastifyInstance, opts: AppOptions) {
  await app.register(swagger);
  await app.register(errorHandler);
  await app.register(services, { config: opts.config, tenant: opts.tenant });
  await app.register(healthRoutes);
  await app.register(jobsRoutes);
  await app.register(jobEventsRoutes);
  await app.register(modelsRoutes);
  await app.register(planRoutes);
  await app.register(datasetsRoutes);
}, { name: 'trainyard' });

/** Builds a ready-to-listen app. Tests use this too; `server.ts` only adds listening and signals. */
export async function buildApp(config: AppConfig, options: FastifyServerOptions & { tenant?: string } = {}) {
  const { tenant, ...fastifyOptions } = options;
  const app = Fastify({
    logger: options.logger ?? { level: config.LOG_LEVEL },
    bodyLimit: config.BODY_LIMIT,
    requestTimeout: 120_000,
    ...fastifyOptions,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // The API speaks JSON only: anything else is a 415, not a string body.
  app.removeContentTypeParser('text/plain');
  await app.register(appPlugin, { config, tenant });
  return app;
}
