import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { asSwaggerEmitsIt, transformOpenApiDocument } from '../../src/api/schemas/openapi-document.js';

// As @fastify/swagger puts a route schema into the document (e.g. `const` as a one-value `enum`).
const json = (schema: object) => ({ content: { 'application/json': { schema: asSwaggerEmitsIt(schema) } } });
const docWith = (schema: object, operation: object = {}) => ({
  openapi: '3.1.0',
  paths: { '/things': { post: { operationId: 'createThing', requestBody: json(schema), responses: { 200: { description: 'Default Response', ...json(schema) } }, ...operation } } },
});
const body = (doc: any) => doc.paths['/things'].post.requestBody.content['application/json'].schema;

describe('the OpenAPI document transform', () => {
  it('turns draft-07 tuples into prefixItems', () => {
    const out = transformOpenApiDocument(docWith(Type.Tuple([Type.Integer(), Type.String()])), { components: {} });
    expect(body(out)).toMatchObject({ type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string' }], items: false });
    expect(body(out).additionalItems).toBeUndefined();
  });

  it('turns "if it has key K" into a oneOf of the two forms, and refuses other conditions', () => {
    const then = Type.Object({ k: Type.String() }, { additionalProperties: false });
    const otherwise = Type.Object({ x: Type.Integer() }, { additionalProperties: false });
    const out = transformOpenApiDocument(docWith({ if: { required: ['k'] }, then, else: otherwise }), { components: {} });
    expect(body(out).oneOf).toHaveLength(2);
    expect(body(out).if).toBeUndefined();
    expect(() => transformOpenApiDocument(docWith({ if: { minProperties: 2 }, then, else: otherwise }), { components: {} })).toThrow(/if\/then\/else/);
  });

  it('names titled and listed schemas once, refers to them, and maps a discriminated union', () => {
    const A = Type.Object({ type: Type.Literal('a'), n: Type.Integer() }, { title: 'A' });
    const B = Type.Object({ type: Type.Literal('b') }, { title: 'B' });
    const Union = { type: 'object', oneOf: [A, B], discriminator: { propertyName: 'type' } };
    const out: any = transformOpenApiDocument(docWith(Type.Object({ items: Type.Array(Union as never), first: A })), { components: { Thing: Union } });
    expect(body(out).properties).toEqual({ items: { type: 'array', items: { $ref: '#/components/schemas/Thing' } }, first: { $ref: '#/components/schemas/A' } });
    expect(out.components.schemas.Thing).toMatchObject({
      oneOf: [{ $ref: '#/components/schemas/A' }, { $ref: '#/components/schemas/B' }],
      discriminator: { propertyName: 'type', mapping: { a: '#/components/schemas/A', b: '#/components/schemas/B' } },
    });
    expect(out.paths['/things'].post.responses[200].description).toBe('OK');
  });

  it('recognises a schema listed without a description under any description or default, which stay beside its $ref', () => {
    const window = Type.Union([Type.Integer({ minimum: 1 }), Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })])]);
    const described = (description: string, extra: object = {}) => ({ ...window, description, ...extra });
    const Named = Type.String({ minLength: 1, description: 'A name.' });
    const schema = Type.Object({
      kernel: described('Filter size.'),
      strides: described('Stride.', { default: 1 }),
      name: Named,
      label: Type.String({ minLength: 1, description: 'Another.' }),
    });
    const out: any = transformOpenApiDocument(docWith(schema), { components: { Window: window, Name: Named } });
    expect(body(out).properties).toEqual({
      kernel: { $ref: '#/components/schemas/Window', description: 'Filter size.' },
      strides: { $ref: '#/components/schemas/Window', description: 'Stride.', default: 1 },
      // Listed with a description, a schema is recognised only with that description.
      name: { $ref: '#/components/schemas/Name' },
      label: { type: 'string', minLength: 1, description: 'Another.' },
    });
    expect(out.components.schemas.Window.description).toBeUndefined();
    expect(out.components.schemas.Window.anyOf).toHaveLength(2);
    expect(out.components.schemas.Name).toEqual({ type: 'string', minLength: 1, description: 'A name.' });
  });

  it('refuses two different schemas under one title, a listed schema it cannot find, and an operation without operationId', () => {
    const one = Type.Object({ a: Type.String() }, { title: 'Same' });
    const other = Type.Object({ b: Type.String() }, { title: 'Same' });
    expect(() => transformOpenApiDocument(docWith(Type.Object({ one, other })), { components: {} })).toThrow(/two different schemas are named Same/);
    expect(() => transformOpenApiDocument(docWith(Type.String()), { components: { Missing: Type.Integer() } })).toThrow(/not found in the document: Missing/);
    expect(() => transformOpenApiDocument(docWith(Type.String(), { operationId: undefined }), { components: {} })).toThrow(/POST \/things needs a camelCase operationId/);
  });

  it('does not require a query parameter that has a default', () => {
    const parameters = [
      { in: 'query', name: 'limit', required: true, schema: { type: 'integer', default: 20 } },
      { in: 'query', name: 'q', required: true, schema: { type: 'string' } },
    ];
    const out: any = transformOpenApiDocument(docWith(Type.String(), { parameters }), { components: {} });
    expect(out.paths['/things'].post.parameters.map((p: { required?: boolean }) => p.required)).toEqual([undefined, true]);
  });
});
