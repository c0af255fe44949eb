import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type * as tf from '@tensorflow/tfjs';
import type { AppConfig } from '../../../config/config.js';
import { createDb, type Db } from '../../../storage/prisma.js';
import { createRedis } from '../../../queue/connection.js';
import { createTrainQueue, type TrainQueue } from '../../../queue/train-queue.js';
import { createArtifactStore, type ArtifactStore } from '../../../storage/artifact-store.js';
import { loadModelArtifact, modelArtifactKey } from '../../../storage/model-artifacts.js';
import { ModelCache } from '../../../predict/model-cache.js';
import { selectEngine, type EngineInfo } from '../../../worker/engine/select-engine.js';

export interface Services {
  config: AppConfig;
  db: Db;
  redis: Redis;
  queue: TrainQueue;
  artifacts: ArtifactStore;
  modelCache: ModelCache<tf.LayersModel>;
  /** Engine used for inference in this process. */
  engine: EngineInfo;
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
    const artifacts = createArtifactStore(config.ARTIFACT_DIR);
    const engine = await selectEngine(config.ENGINE);
    const modelCache = new ModelCache(config.MODEL_CACHE_SIZE, (id) => loadModelArtifact(artifacts, modelArtifactKey(id)));

    app.decorate('services', { config, db, redis, queue, artifacts, modelCache, engine });

    app.addHook('onClose', async () => {
      await modelCache.clear();
      await queue.close().catch(() => undefined);
      redis.disconnect();
      await db.$disconnect();
    });
  },
  { name: 'services' },
);
