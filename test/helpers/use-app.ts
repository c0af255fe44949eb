import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { AppConfig } from '../../src/config/config.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import { createTestApp, quietLog, type TestApp } from './app.js';

/**
 * A stand-in for a value that a hook makes later: reads through it reach
 * the value of the moment, so a file can name it once at its top. Reading
 * before the hook ran (or after the value was closed) fails naming it.
 */
function lateValue<T extends object>(what: string) {
  let current: T | undefined;
  const target = (): T => {
    if (current === undefined) throw new Error(`${what} is not there: it is made in a before hook and closed in an after hook`);
    return current;
  };
  const value = new Proxy({} as T, {
    get(_, key) {
      const real = target();
      const v = Reflect.get(real, key);
      return typeof v === 'function' ? v.bind(real) : v;
    },
    has: (_, key) => Reflect.has(target(), key),
  });
  return {
    value,
    get: () => current,
    set(next: T | undefined) {
      current = next;
    },
  };
}

/** An app made by the `before` hook and closed by the `after` one. */
function appInHooks(before: typeof beforeAll, after: typeof afterAll, overrides: Partial<AppConfig>): TestApp {
  const t = lateValue<TestApp>('the test app');
  before(async () => t.set(await createTestApp(overrides)));
  after(async () => {
    await t.get()?.close();
    t.set(undefined);
  });
  return t.value;
}

/** One app (createTestApp) for the tests of this file or describe: made before the first, closed after the last. */
export function useTestApp(overrides: Partial<AppConfig> = {}): TestApp {
  return appInHooks(beforeAll, afterAll, overrides);
}

/** A fresh app (createTestApp) for each test of this file or describe, closed after it. */
export function useFreshTestApp(overrides: Partial<AppConfig> = {}): TestApp {
  return appInHooks(beforeEach, afterEach, overrides);
}

/**
 * One app and a training worker in this process on its queue, for the tests
 * of this file or describe: made before the first, the worker closed before
 * the app after the last.
 */
export function useAppWithWorker(overrides: Partial<AppConfig> = {}): { t: TestApp; worker: TrainingWorker } {
  const t = lateValue<TestApp>('the test app');
  const worker = lateValue<TrainingWorker>('the training worker');
  beforeAll(async () => {
    t.set(await createTestApp(overrides));
    worker.set(await startTrainingWorker(t.value.config, quietLog));
  });
  afterAll(async () => {
    await worker.get()?.close();
    worker.set(undefined);
    await t.get()?.close();
    t.set(undefined);
  });
  return { t: t.value, worker: worker.value };
}
