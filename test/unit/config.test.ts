import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { DEFAULT_PLAN_LIMITS } from '../../src/model-spec/plan-limits.js';

describe('loadConfig', () => {
  it('gives working defaults for a developer machine', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/trainyard',
      REDIS_URL: 'redis://127.0.0.1:6379',
      ENGINE: 'auto',
      ENGINE_THREADS: 1,
    });
  });

  it("defaults the server's model size limits and every tenant's model quotas to the compiler's limits", () => {
    const config = loadConfig({});
    expect(DEFAULT_PLAN_LIMITS).toEqual({ maxParams: 50_000_000, maxMacs: 5_000_000_000 });
    expect([config.MAX_MODEL_PARAMS, config.MAX_MODEL_MACS]).toEqual([DEFAULT_PLAN_LIMITS.maxParams, DEFAULT_PLAN_LIMITS.maxMacs]);
    expect([config.QUOTA_MODEL_PARAMS, config.QUOTA_MODEL_MACS]).toEqual([DEFAULT_PLAN_LIMITS.maxParams, DEFAULT_PLAN_LIMITS.maxMacs]);
  });

  it('reads and converts variables, treating empty ones as unset', () => {
    const config = loadConfig({ PORT: '8080', ENGINE: 'cpu', HOST: '' });
    expect(config.PORT).toBe(8080);
    expect(config.ENGINE).toBe('cpu');
    expect(config.HOST).toBe('127.0.0.1');
  });

  it.each([
    [{ PORT: 'abc' }, /PORT must be an integer from 0 to 65535, got "abc" \(default 3000\)/],
    [{ PORT: '70000' }, /PORT must be an integer from 0 to 65535, got 70000/],
    [{ ENGINE: 'gpu' }, /ENGINE must be one of "auto", "tensorflow", "native", "wasm", "cpu", got "gpu"/],
    [{ ENGINE_THREADS: '0' }, /ENGINE_THREADS must be an integer from 1 to 256, got 0 \(default 1\)/],
    [{ ENGINE_THREADS: 'two' }, /ENGINE_THREADS must be an integer from 1 to 256, got "two"/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must match pattern "\^postgres\(ql\)\?:\/\/" \(value not shown\)/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must match pattern .* \(value not shown\)/],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reports every bad variable at once, once each', () => {
    try {
      loadConfig({ PORT: 'x', ENGINE: 'gpu' });
      expect.unreachable();
    } catch (err) {
      const lines = (err as Error).message.split('\n').slice(1);
      expect(lines).toHaveLength(2);
    }
  });

  it('never echoes the value of a setting that may hold a credential', () => {
    const secrets = { DATABASE_URL: 'mysql://admin:hunter2-secret@db/x', REDIS_URL: 'http://:hunter2-secret@cache', ADMIN_TOKEN: 'hunter2-secret' };
    const message = (() => {
      try {
        loadConfig(secrets);
      } catch (err) {
        return (err as Error).message;
      }
      return expect.unreachable();
    })();
    expect(message).not.toContain('hunter2');
    // Each still says which setting is wrong and what it must be.
    expect(message).toMatch(/DATABASE_URL must .*postgres.*\(value not shown\)/);
    expect(message).toMatch(/REDIS_URL must .*redis.*\(value not shown\)/);
    expect(message).toMatch(/ADMIN_TOKEN .*16.*\(value not shown\)/);
  });
});
