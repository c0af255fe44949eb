import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type * as tf from '@tensorflow/tfjs';
import { createTestApp, jobBody, SMALL_CNN, type TestApp } from '../helpers/app.js';
import { localPredict, storeModel } from '../helpers/served-model.js';
import { pngFile, solidRgba } from '../data/fixtures.js';
import { SEED_MNIST_MODEL, INCEPTION_EXAMPLE_MODEL } from '../../src/model-spec/index.js';

/**
 * Property: whatever a client sends, the API answers with a 4xx problem
 * document (or a success), never a 5xx, and keeps serving. Bodies are random
 * JSON and valid specs with random mutations, so both the validator and the
 * planner are exercised. Submissions are planned but never trained. Predict
 * is fuzzed on a real stored (untrained) MNIST model, with valid instances,
 * mutated ones and broken images, so its input handling is reached.
 */
let t: TestApp;
let served: { id: string; model: tf.LayersModel };
beforeAll(async () => {
  // Generous rate limits and quotas: this test is about input, not limits.
  t = await createTestApp({ RATE_LIMIT_SUBMIT: 1_000_000, RATE_LIMIT_PREDICT: 1_000_000, QUOTA_QUEUED_JOBS: 1_000_000 });
  served = await storeModel(t, { seed: 7 });
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
    fc.dictionary(fc.constantFrom('type', 'filters', 'kernelSize', 'strides', 'padding', 'units', 'rate', 'branches', 'layers', 'input', 'shape', 'poolSize', 'x'), tie('value'), {
      maxKeys: 4,
    }),
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
  return res;
}

/** Instances for the stored MNIST model: valid ones (flat, nested, PNG), then broken variants of them. */
const PIXELS = 28 * 28;
const digit = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: PIXELS, maxLength: PIXELS });
const nested = (flat: number[]) => Array.from({ length: 28 }, (_, row) => Array.from({ length: 28 }, (_, col) => [flat[row * 28 + col]]));
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
// Any size and colour type: the service resizes and converts to 28x28 grey.
const png = fc
  .record({ width: fc.integer({ min: 1, max: 40 }), height: fc.integer({ min: 1, max: 40 }), grey: fc.nat(255), colorType: fc.constantFrom(0 as const, 2 as const, 6 as const) })
  .map(({ width, height, grey, colorType }) => pngFile(width, height, solidRgba(width, height, [grey, grey, grey]), colorType));
const validInstance = fc.oneof(
  digit,
  digit.map(nested),
  png.map((bytes) => ({ b64: b64(bytes) })),
);
const brokenImage = fc.oneof(
  fc.tuple(png, fc.nat()).map(([bytes, cut]) => ({ b64: b64(bytes.subarray(0, cut % bytes.length)) })),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ b64: b64(bytes) })),
  fc.string({ maxLength: 24 }).map((text) => ({ b64: text })),
  fc.tuple(png, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([bytes, at, flip]) => {
    const corrupt = Uint8Array.from(bytes);
    corrupt[at % corrupt.length] ^= flip;
    return { b64: b64(corrupt) };
  }),
);
const mutatedInstance = fc.tuple(validInstance, fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), jsonValue, fc.boolean()).map(([i, p, r, d]) => mutate(i, p, r, d));
const instance = fc.oneof({ arbitrary: validInstance, weight: 3 }, { arbitrary: mutatedInstance, weight: 3 }, brokenImage, jsonValue);
const predictBody = fc.oneof(
  { arbitrary: fc.record({ instances: fc.array(validInstance, { minLength: 1, maxLength: 4 }) }), weight: 3 },
  { arbitrary: fc.record({ instances: fc.array(instance, { maxLength: 4 }) }), weight: 3 },
  fc
    .tuple(fc.record({ instances: fc.array(validInstance, { minLength: 1, maxLength: 3 }) }), fc.array(fc.nat(), { minLength: 1, maxLength: 2 }), jsonValue, fc.boolean())
    .map(([b, p, r, d]) => mutate(b, p, r, d)),
  jsonValue,
);

describe('fuzzing', () => {
  it('POST /v1/plan never answers 5xx to mutated specs', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedModel, async (model) => void (await expectHandled('POST', '/v1/plan', model))),
      { numRuns: 1500 },
    );
  });

  it('POST /v1/plan never answers 5xx to arbitrary JSON', async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue, async (body) => void (await expectHandled('POST', '/v1/plan', body))),
      { numRuns: 800 },
    );
  });

  it('POST /v1/jobs never answers 5xx to mutated submissions', async () => {
    const submission = fc
      .tuple(mutatedModel, fc.constantFrom(jobBody() as unknown), fc.array(fc.nat(), { maxLength: 3 }), jsonValue, fc.boolean())
      .map(([model, body, p, r, d]) => {
        const withModel = { ...(body as object), model };
        return p.length ? mutate(withModel, p, r, d) : withModel;
      });
    await fc.assert(
      fc.asyncProperty(submission, async (body) => void (await expectHandled('POST', '/v1/jobs', body))),
      { numRuns: 700 },
    );
  });

  it('POST /v1/models/{id}/predict on a stored model never answers 5xx to valid, mutated and broken instances', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(predictBody, async (body) => {
        const res = await expectHandled('POST', `/v1/models/${served.id}/predict`, body);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 200) {
          const { predictions } = res.json() as { predictions: number[][] };
          expect(predictions).toHaveLength((body as { instances: unknown[] }).instances.length);
          for (const row of predictions) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
        }
      }),
      { numRuns: 500 },
    );
    // Both sides of the input handling were reached: instances accepted and instances refused.
    expect(statuses.get(200), JSON.stringify([...statuses])).toBeGreaterThan(50);
    expect(statuses.get(400), JSON.stringify([...statuses])).toBeGreaterThan(50);
  });

  it('still plans and predicts correctly afterwards', async () => {
    const planned = await t.app.inject({ method: 'POST', url: '/v1/plan', payload: SMALL_CNN, headers: { authorization: `Bearer ${t.key}` } });
    expect(planned.statusCode).toBe(200);
    const digits = [Array.from({ length: PIXELS }, (_, i) => (i % 29) / 28), Array.from({ length: PIXELS }, (_, i) => ((i * 7) % 256) / 255)];
    const res = await t.app.inject({ method: 'POST', url: `/v1/models/${served.id}/predict`, payload: { instances: digits }, headers: { authorization: `Bearer ${t.key}` } });
    expect(res.statusCode, res.body).toBe(200);
    const expected = localPredict(served.model, digits, [28, 28, 1]);
    res.json().predictions.forEach((row: number[], i: number) => row.forEach((p, k) => expect(p).toBeCloseTo(expected[i][k], 4)));
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
