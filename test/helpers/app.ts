import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import type { AppConfig } from '../../src/config/config.js';
import { randomBytes } from 'node:crypto';
import { testConfig } from './config.js';

export interface TestApp {
  app: FastifyInstance;
  config: AppConfig;
  /** The tenant all of this app's requests act as: rows of other tests are invisible. */
  tenant: string;
  close(): Promise<void>;
}

/** A fresh app per test with its own queue; close() empties that queue and releases every connection. */
export async function createTestApp(overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  const config = testConfig(overrides);
  const tenant = `test-${randomBytes(6).toString('hex')}`;
  const app = await buildApp(config, { logger: false, tenant });
  await app.ready();
  return {
    app: app as unknown as FastifyInstance,
    config,
    tenant,
    async close() {
      if (app.services.redis.status === 'ready') await app.services.queue.obliterate({ force: true });
      await app.close();
    },
  };
}

export const SMALL_CNN = {
  input: { shape: [28, 28, 1] },
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

export function jobBody(overrides: Record<string, unknown> = {}) {
  return {
    name: 'test-job',
    model: SMALL_CNN,
    training: { optimizer: 'adam', learningRate: 0.01, epochs: 2, batchSize: 32, validationSplit: 0.1, seed: 1 },
    dataset: { id: 'mnist', limit: 300 },
    ...overrides,
  };
}
