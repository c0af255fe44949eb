import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../../config/config.js';
import { createDb, type Db } from '../../../storage/prisma.js';
import { createRedis } from '../../../queue/connection.js';
import { createTrainQueue, type TrainQueue } from '../../../queue/train-queue.js';
import { artifactStoreFor, type ArtifactStore } from '../../../storage/artifact-store.js';
import { ComputePool } from '../../../compute/compute-pool.js';
import { Serving } from '../../../predict/serving.js';
import { ServedModels } from '../../services/served-models.js';
import { ApiMetrics } from '../../services/api-metrics.js';

export interface Services {
  config: AppConfig;
  db: Db;
  redis: Redis;
  queue: TrainQueue;
  artifacts: ArtifactStore;
  /** Worker threads for inference, image decoding and dataset parsing. */
  compute: ComputePool;
  serving: Serving;
  /** Finds the model a predict names (by id or through the registry), cached briefly. */
  served: ServedModels;
  /** Prometheus metrics of this process, served at /metrics. */
  metrics: ApiMetrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

/** Creates the process-wide clients the routes share, and closes them with the app. */
export default fp(
  async function services(app: FastifyInstance, opts: { config: AppConfig }) {
    const { config } = opts;
    const db = createDb(config.DATABASE_URL);
    const redis = createRedis(config.REDIS_URL, 'producer', { lazyConnect: false });
    // An unreachable Redis is reported by /readyz and as 503s, not as crashes.
    redis.on('error', (err) => app.log.debug({ err: err.message }, 'redis connection error'));
    const queue = createTrainQueue(config.QUEUE_NAME, redis, config.JOB_ATTEMPTS);
    queue.on('error', (err) => app.log.debug({ err: err.message }, 'queue error'));
    const artifacts = artifactStoreFor(config);
    const compute = ComputePool.fromConfig(config);
    const metrics = new ApiMetrics();
    const serving = new Serving(compute, { maxBatchSize: config.PREDICT_MAX_BATCH_SIZE, timeoutMicros: config.PREDICT_BATCH_TIMEOUT_MICROS, observer: metrics.serving });
    metrics.watch({ db, redis, queue, queueName: config.QUEUE_NAME, compute });

    app.decorate('services', { config, db, redis, queue, artifacts, compute, serving, served: new ServedModels(db), metrics });

    app.addHook('onClose', async () => {
      serving.close();
      await compute.close();
      await queue.close().catch(() => undefined);
      redis.disconnect();
      await db.$disconnect();
    });
  },
  { name: 'services' },
);
