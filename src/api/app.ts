import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppConfig } from '../config/config.js';
import swagger from './plugins/external/swagger.js';
import helmet from './plugins/external/helmet.js';
import rateLimit from './plugins/external/rate-limit.js';
import bullBoard, { QUEUE_DASHBOARD_PATH } from './plugins/external/bull-board.js';
import errorHandler from './plugins/app/error-handler.js';
import shutdown from './plugins/app/shutdown.js';
import services from './plugins/app/services.js';
import auth from './plugins/app/auth.js';
import httpMetrics from './plugins/app/http-metrics.js';
import { validatorCompiler } from './plugins/app/validation.js';
import { registerJsonParser } from './plugins/app/json-parser.js';
import healthRoutes from './routes/health/index.js';
import jobsRoutes from './routes/jobs/index.js';
import jobEventsRoutes from './routes/jobs/events.js';
import sweepsRoutes from './routes/sweeps/index.js';
import sweepEventsRoutes from './routes/sweeps/events.js';
import modelsRoutes from './routes/models/index.js';
import datasetsRoutes from './routes/datasets/index.js';
import planRoutes from './routes/plan/index.js';
import adminRoutes from './routes/admin/index.js';
import workersRoutes from './routes/workers/index.js';
import tfservingRoutes from './routes/tfserving/index.js';
import kserveRoutes from './routes/kserve/index.js';
import registeredModelsRoutes from './routes/registered-models/index.js';
import consoleRoutes from './routes/console/index.js';
import webhooksRoutes from './routes/webhooks/index.js';
import metricsRoutes from './routes/metrics/index.js';

export interface AppOptions {
  config: AppConfig;
}

/** The whole API as one plugin: shared plugins first, then encapsulated routes. */
export const appPlugin = fp(
  async function trainyard(app: FastifyInstance, opts: AppOptions) {
    await app.register(helmet);
    await app.register(swagger);
    await app.register(errorHandler);
    await app.register(shutdown);
    await app.register(services, { config: opts.config });
    await app.register(httpMetrics);
    await app.register(auth);
    await app.register(rateLimit);
    await app.register(healthRoutes);
    await app.register(metricsRoutes);
    await app.register(jobsRoutes);
    await app.register(jobEventsRoutes);
    await app.register(sweepsRoutes);
    await app.register(sweepEventsRoutes);
    await app.register(modelsRoutes);
    await app.register(planRoutes);
    await app.register(datasetsRoutes);
    await app.register(workersRoutes);
    await app.register(registeredModelsRoutes);
    await app.register(webhooksRoutes);
    await app.register(adminRoutes);
    await app.register(tfservingRoutes, { prefix: '/tfserving' });
    await app.register(kserveRoutes, { prefix: '/v2' });
    await app.register(consoleRoutes);
    await app.register(bullBoard, { prefix: QUEUE_DASHBOARD_PATH });
  },
  { name: 'trainyard' },
);

/** Builds a ready-to-listen app. Tests use this too; `server.ts` only adds listening and signals. */
export async function buildApp(config: AppConfig, fastifyOptions: FastifyServerOptions = {}) {
  const app = Fastify({
    logger: fastifyOptions.logger ?? { level: config.LOG_LEVEL, redact: ['req.headers.authorization'] },
    bodyLimit: config.BODY_LIMIT,
    requestTimeout: 120_000,
    // Registered model names are up to 128 characters, and appear in paths.
    routerOptions: { maxParamLength: 256 },
    ...fastifyOptions,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // The API speaks JSON only: anything else is a 415, not a string body.
  app.removeContentTypeParser('text/plain');
  registerJsonParser(app as unknown as FastifyInstance);
  await app.register(appPlugin, { config });
  return app;
}
