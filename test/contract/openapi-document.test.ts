import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { canonicalJson as canonical } from '../../src/infra/canonical-json.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LAYER_TYPES } from '../../src/model-spec/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const text = () => readFile(path.join(root, 'openapi.yaml'), 'utf8');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operations(doc: Record<string, any>) {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ id: `${m.toUpperCase()} ${p}`, path: p, op: item[m] })),
  );
}

/** Every value under `node`, with its JSON pointer-ish path. */
function* walk(node: unknown, at = ''): Generator<[string, Record<string, any>]> {
  if (Array.isArray(node)) for (const [i, v] of node.entries()) yield* walk(v, `${at}/${i}`);
  else if (node && typeof node === 'object') {
    yield [at, node as Record<string, any>];
    for (const [k, v] of Object.entries(node)) yield* walk(v, `${at}/${k}`);
  }
}

/** `node`, or what its local `$ref` points at. */
function resolve(doc: Record<string, any>, node: Record<string, any>): Record<string, any> {
  if (typeof node.$ref !== 'string') return node;
  return node.$ref
    .slice(2)
    .split('/')
    .reduce((at: Record<string, any>, key: string) => at[key.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
}

describe('openapi.yaml as OpenAPI 3.1', () => {
  it('passes `redocly lint` (recommended rules, redocly.yaml) with no error', async () => {
    const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin/cli.js');
    const run = await promisify(execFile)(process.execPath, [cli, 'lint', 'openapi.yaml', '--format=json'], {
      cwd: root,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
    const report = JSON.parse(run.stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
    };
    const found = report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
    expect(found).toEqual([]);
    expect(report.totals.errors).toBe(0);
  });

  it('names shared schemas once and refers to them', async () => {
    const source = await text();
    const doc = parse(source);
    const schemas = doc.components.schemas as Record<string, any>;
    for (const name of ['Job', 'ModelSpec', 'LayerSpec', 'Conv2dLayer', 'Problem', 'ModelInput', 'SubmitJobRequest', 'ModelPlan', 'Model']) {
      expect(schemas[name], name).toBeDefined();
    }
    // A titled schema appears only as its component: never inlined again.
    const titled = [...walk(doc)].filter(([at, node]) => !at.includes('/example') && typeof node.title === 'string' && typeof node.type === 'string');
    for (const [at, node] of titled) expect(at, `${node.title} is inlined`).toBe(`/components/schemas/${node.title}`);
    // Job is referenced by the list, and by the shared responses that getJob, createJob and cancelJob refer to.
    expect(schemas.JobList.properties.items.items).toEqual({ $ref: '#/components/schemas/Job' });
    const responses = doc.components.responses as Record<string, any>;
    expect(doc.paths['/v1/jobs/{id}'].get.responses['200']).toEqual({ $ref: '#/components/responses/Job' });
    expect(doc.paths['/v1/jobs'].post.responses['202']).toEqual({ $ref: '#/components/responses/JobAccepted' });
    for (const name of ['Job', 'JobAccepted']) expect(responses[name].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Job' });
    // The document grows with the API; inlining would show as bytes per operation (about 3 KB now, 18 KB when
    // every schema was inlined). Repeats themselves are caught by the next test.
    const operations = Object.values(doc.paths as Record<string, object>).reduce((n, item) => n + Object.keys(item).filter((k) => k !== 'parameters').length, 0);
    expect(Buffer.byteLength(source) / operations).toBeLessThan(4_000);
  });

  it('defines every repeated part once: parameters, responses and request bodies, and schemas of more than a few lines', async () => {
    const doc = parse(await text());
    const seen = new Map<string, string>();
    const once = (at: string, node: object) => {
      const id = canonical(node);
      expect(seen.get(id), `${at} repeats ${seen.get(id)}`).toBeUndefined();
      seen.set(id, at);
    };
    for (const { id, op } of operations(doc)) {
      for (const p of (op.parameters ?? []) as Record<string, any>[]) if (!p.$ref) once(`${id} parameter ${p.name}`, p);
      for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, any>)) if (!r.$ref) once(`${id} ${status}`, r);
      if (op.requestBody && !op.requestBody.$ref) once(`${id} request body`, op.requestBody);
    }
    expect(Object.keys(doc.components.parameters)).toEqual(expect.arrayContaining(['Id', 'PageLimit', 'RegisteredModelName', 'ServedModelName']));
    seen.clear();
    // Examples are data, and an operation's map of responses holds only references by now; a use of a
    // named schema with a description of its own (a $ref and a sentence or two) may repeat.
    for (const [at, node] of walk(doc)) {
      if (/\/examples?(\/|$)/.test(at) || /\/responses$/.test(at) || canonical(node).length <= 300) continue;
      once(at, node);
    }
  });

  it('uses 2020-12 tuples and no if/then/else', async () => {
    const doc = parse(await text());
    for (const [at, node] of walk(doc)) {
      if (at.includes('/example')) continue;
      expect(node.additionalItems, at).toBeUndefined();
      expect(Array.isArray(node.items), at).toBe(false);
      expect(node.if, at).toBeUndefined();
    }
    const shape = doc.components.schemas.ModelSpec.properties.input.properties.shape;
    expect(shape.anyOf[0]).toMatchObject({ type: 'array', prefixItems: [{ type: 'integer' }, { type: 'integer' }, { type: 'integer' }], items: false });
  });

  it('has the layer union as a oneOf of $refs with a discriminator mapping on type', async () => {
    const { LayerSpec, BranchLayerSpec, ModelInput } = parse(await text()).components.schemas;
    expect(LayerSpec.oneOf.map((s: { $ref: string }) => s.$ref)).toEqual(Object.values(LayerSpec.discriminator.mapping));
    expect(Object.keys(LayerSpec.discriminator.mapping)).toEqual(LAYER_TYPES);
    expect(LayerSpec.discriminator).toMatchObject({
      propertyName: 'type',
      mapping: { conv2d: '#/components/schemas/Conv2dLayer', inception: '#/components/schemas/InceptionLayer' },
    });
    expect(Object.keys(BranchLayerSpec.discriminator.mapping)).toEqual(['conv2d', 'maxPool2d', 'avgPool2d', 'batchNorm', 'activation', 'dropout']);
    expect(ModelInput.oneOf).toEqual([{ $ref: '#/components/schemas/KerasModelEnvelope' }, { $ref: '#/components/schemas/ModelSpec' }]);
  });

  it('gives every operation a unique camelCase operationId', async () => {
    const ops = operations(parse(await text()));
    const ids = ops.map((o) => o.op.operationId);
    for (const [i, id] of ids.entries()) expect(id, ops[i].id).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
    const byRoute = Object.fromEntries(ops.map((o) => [o.id, o.op.operationId]));
    expect(byRoute).toMatchObject({
      'POST /v1/jobs': 'createJob',
      'GET /v1/jobs/{id}': 'getJob',
      'POST /v1/models/{id}/predict': 'predictModel',
      'POST /v1/plan': 'planModel',
      'POST /tfserving/v1/models/{name}:predict': 'tfservingPredict',
      'POST /v2/models/{name}/infer': 'kserveInfer',
    });
  });

  it('answers problems as application/problem+json, one example per status; TF Serving and KServe keep {"error"} as application/json', async () => {
    const doc = parse(await text());
    const shared = doc.components.responses as Record<string, any>;
    const errors = new Set<string>();
    for (const { id, path: p, op } of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        if (Number(status) < 400 || p === '/readyz' || p === '/v2/health/ready') continue;
        expect(response.$ref, `${id} ${status}`).toMatch(/^#\/components\/responses\//);
        const name = response.$ref.split('/').pop();
        errors.add(name);
        const target = shared[name];
        const protocol = p.startsWith('/tfserving/') || p.startsWith('/v2/');
        const media = target.content[protocol ? 'application/json' : 'application/problem+json'];
        expect(Object.keys(target.content), `${id} ${status}`).toHaveLength(1);
        expect(media.schema.$ref).toBe(protocol ? '#/components/schemas/ProtocolError' : '#/components/schemas/Problem');
        if (protocol) expect(media.example).toEqual({ error: expect.any(String) });
        else expect(media.example).toMatchObject({ status: Number(status), type: `urn:trainyard:problem:${media.example.code}` });
      }
    }
    const details = [...errors].map((name) => JSON.stringify(Object.values(shared[name].content as object)[0].example));
    expect(new Set(details).size).toBe(details.length);
  });

  it('does not require query parameters that have a default', async () => {
    const doc = parse(await text());
    let withDefault = 0;
    for (const { id, op } of operations(doc)) {
      for (const p of (op.parameters ?? []).map((p: object) => resolve(doc, p)) as { in: string; name: string; required?: boolean; schema: { default?: unknown } }[]) {
        if (p.in === 'query' && p.schema.default !== undefined) {
          withDefault += 1;
          expect(p.required, `${id} ${p.name}`).not.toBe(true);
        }
      }
    }
    expect(withDefault).toBeGreaterThan(0);
  });

  it('documents both bodies of POST /v1/plan', async () => {
    const doc = parse(await text());
    const body = doc.paths['/v1/plan'].post.requestBody.content['application/json'];
    expect(body.schema.oneOf).toEqual([{ $ref: '#/components/schemas/PlanRequest' }, { $ref: '#/components/schemas/ModelInput' }]);
    expect(doc.components.schemas.PlanRequest).toMatchObject({
      required: ['model'],
      properties: { model: { $ref: '#/components/schemas/ModelInput' } },
      additionalProperties: false,
    });
  });
});
