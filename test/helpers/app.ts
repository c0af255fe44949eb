import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/api/app.js';
import type { AppConfig } from '../../src/config/config.js';
import { createKey, createTenant } from '../../src/storage/api-keys.repository.js';
import { testConfig } from './config.js';

type Agent = ReturnType<typeof request.agent>;

/** A logger for workers started in tests: errors only. */
export const quietLog = { info() {}, warn() {}, error: console.error };

export interface TestApp {
  app: FastifyInstance;
  config: AppConfig;
  /** A tenant of this test's own: rows of other tests are invisible to it. */
  tenant: string;
  key: string;
  /** supertest agent that sends this tenant's API key with every request. */
  http: Agent;
  /** Another tenant with its own key, for isolation checks. */
  otherTenant(): Promise<{ tenant: string; key: string; http: Agent }>;
  close(): Promise<void>;
}

async function newTenant(app: FastifyInstance) {
  const tenant = `test-${randomBytes(6).toString('hex')}`;
  await createTenant(app.services.db, tenant);
  const { key } = await createKey(app.services.db, tenant, 'test');
  const http = request.agent(app.server).set('authorization', `Bearer ${key}`);
  return { tenant, key, http };
}

/** A fresh app per test with its own queue and tenant; close() empties that queue and releases every connection. */
export async function createTestApp(overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  const config = testConfig(overrides);
  const app = (await buildApp(config, { logger: false })) as unknown as FastifyInstance;
  await app.ready();
  const own = await newTenant(app);
  return {
    app,
    config,
    ...own,
    otherTenant: () => newTenant(app),
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
