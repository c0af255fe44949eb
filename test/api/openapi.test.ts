import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { generateOpenApiYaml } from '../../src/api/openapi.js';
import { loadConfig } from '../../src/config/config.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('OpenAPI document', () => {
  it('openapi.yaml is what the code generates (run `npm run openapi` after changing a route or schema)', async () => {
    const committed = await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8');
    const generated = await generateOpenApiYaml(loadConfig({}, { LOG_LEVEL: 'silent' }));
    expect(generated === committed, 'openapi.yaml is out of date: run `npm run openapi` and commit it').toBe(true);
  });

  it('documents every route with a tag, a summary, and responses', async () => {
    const doc = parse(await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8'));
    const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })),
    );
    expect(operations.map((o) => o.id)).toEqual(
      expect.arrayContaining([
        'POST /v1/jobs',
        'GET /v1/jobs',
        'GET /v1/jobs/{id}',
        'GET /v1/jobs/{id}/metrics',
        'GET /v1/models/{id}',
        'POST /v1/models/{id}/predict',
        'GET /v1/models/{id}/artifact',
        'POST /v1/plan',
        'GET /healthz',
        'GET /readyz',
      ]),
    );
    for (const { id, op } of operations) {
      expect(op.tags?.length, `${id} has a tag`).toBeGreaterThan(0);
      expect(op.summary, `${id} has a summary`).toEqual(expect.any(String));
      expect(Object.keys(op.responses ?? {}).length, `${id} has responses`).toBeGreaterThan(0);
    }
    // Errors are shared problem+json responses; the layer union is a named schema (test/contract checks the rest).
    const submit = doc.paths['/v1/jobs'].post;
    expect(submit.responses['400'].$ref).toBe('#/components/responses/InvalidRequest');
    expect(doc.components.schemas.Problem.properties.detail).toBeDefined();
    expect(doc.components.schemas.LayerSpec.discriminator.propertyName).toBe('type');
  });

  it('serves Swagger UI at /docs and the document at /docs/json', async () => {
    t = await createTestApp();
    const ui = await t.http.get('/docs/').redirects(1);
    expect(ui.status).toBe(200);
    expect(ui.text).toMatch(/swagger-ui/i);
    const json = await t.http.get('/docs/json');
    expect(json.status).toBe(200);
    expect(json.body.info.title).toBe('Trainyard API');
  });
});
