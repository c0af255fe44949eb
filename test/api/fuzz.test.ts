import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestApp, jobBody, SMALL_CNN, type TestApp } from '../helpers/app.js';
import { SEED_MNIST_MODEL, INCEPTION_EXAMPLE_MODEL } from '../../src/spec/index.js';

/**
 * Property: whatever a client sends, the API answers with a 4xx problem
 * document (or a success), never a 5xx, and keeps serving. Bodies are random
 * JSON and valid specs with random mutations, so both the validator and the
 * planner are exercised. Submissions are planned but never trained.
 */
let t: TestApp;
beforeAll(async () => {
  // Generous rate limits and quotas: this test is about input, not limits.
  t = await createTestApp({ RATE_LIMIT_SUBMIT: 1_000_000, RATE_LIMIT_PREDICT: 1_000_000, QUOTA_QUEUED_JOBS: 1_000_000 });
});
afterAll(async () => {
  await t.close();
});

const bases = [SEED_MNIST_MODEL, INCEPTION_EXAMPLE_MODEL, SMALL_CNN].map((m) => structuredClone(m) as unknown);

const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -5, max: 5000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(-1, 0, 1, 2, 3, 28, 1e9, 0.5, 'same', 'valid', 'relu', 'softmax', 'conv2d', 'dense', 'inception', 'flatten'),
    fc.string({ maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.constantFrom('type', 'filters', 'kernelSize', 'strides', 'padding', 'units', 'rate', 'branches', 'layers', 'input', 'shape', 'poolSize', 'x'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A path into a JSON value and a replacement at it. */
function mutate(base: unknown, path: number[], replacement: unknown, drop: boolean): unknown {
  const copy = structuredClone(base) as Record<string, unknown>;
  let node: unknown = copy;
  for (let depth = 0; depth < path.length; depth++) {
    if (!node || typeof node !== 'object') break;
    const keys = Object.keys(node as object);
    if (keys.length === 0) break;
    const key = keys[path[depth] % keys.length];
    const child = (node as Record<string, unknown>)[key];
    const last = depth === path.length - 1 || !child || typeof child !== 'object';
    if (last) {
      if (drop) delete (node as Record<string, unknown>)[key];
      else (node as Record<string, unknown>)[key] = replacement;
      break;
    }
    node = child;
  }
  return copy;
}

const mutatedModel = fc.tuple(fc.constantFrom(...bases), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), jsonValue, fc.boolean()).map(([b, p, r, d]) => mutate(b, p, r, d));

async function expectHandled(method: 'POST', url: string, payload: unknown) {
  const res = await t.app.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' } });
  if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${JSON.stringify(payload).slice(0, 500)}: ${res.body}`);
  if (res.statusCode >= 400) {
    const body = res.json();
    expect(body).toMatchObject({ type: expect.any(String), title: expect.any(String), status: res.statusCode, detail: expect.any(String), code: expect.any(String) });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  }
}

describe('fuzzing', () => {
  it('POST /v1/plan never answers 5xx to mutated specs', async () => {
    await fc.assert(fc.asyncProperty(mutatedModel, (model) => expectHandled('POST', '/v1/plan', model)), { numRuns: 1500 });
  });

  it('POST /v1/plan never answers 5xx to arbitrary JSON', async () => {
    await fc.assert(fc.asyncProperty(jsonValue, (body) => expectHandled('POST', '/v1/plan', body)), { numRuns: 800 });
  });

  it('POST /v1/jobs never answers 5xx to mutated submissions', async () => {
    const submission = fc.tuple(mutatedModel, fc.constantFrom(jobBody() as unknown), fc.array(fc.nat(), { maxLength: 3 }), jsonValue, fc.boolean()).map(([model, body, p, r, d]) => {
      const withModel = { ...(body as object), model };
      return p.length ? mutate(withModel, p, r, d) : withModel;
    });
    await fc.assert(fc.asyncProperty(submission, (body) => expectHandled('POST', '/v1/jobs', body)), { numRuns: 700 });
  });

  it('POST /v1/models/{id}/predict never answers 5xx to arbitrary bodies', async () => {
    const body = fc.oneof(jsonValue, fc.record({ instances: fc.array(jsonValue, { maxLength: 4 }) }));
    await fc.assert(fc.asyncProperty(body, (b) => expectHandled('POST', '/v1/models/00000000-0000-4000-8000-000000000000/predict', b)), { numRuns: 500 });
  });

  it('is still up afterwards', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
