import { describe, expect, it } from 'vitest';
import { useOperationComponents } from '../../src/api/schemas/operation-components.js';

const json = (ref: string) => ({ content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const idParam = { in: 'path', name: 'id', required: true, description: 'Identifier.', schema: { type: 'string', format: 'uuid' } };
const limit = { in: 'query', name: 'limit', schema: { type: 'integer', default: 20 } };

/** Two operations on one thing, as the schema transform leaves them (errors are already shared responses). */
function document() {
  return {
    openapi: '3.1.0',
    paths: {
      '/things/{id}': {
        get: { operationId: 'getThing', parameters: [idParam], responses: { 200: { description: 'OK', ...json('Thing') }, 404: { $ref: '#/components/responses/NotFound' } } },
        put: {
          operationId: 'putThing',
          parameters: [structuredClone(idParam)],
          requestBody: { required: true, ...json('Thing') },
          responses: { 200: { description: 'OK', ...json('Thing') }, 202: { description: 'Accepted', ...json('Thing') } },
        },
        delete: { operationId: 'deleteThing', parameters: [structuredClone(idParam)], responses: { 204: { description: 'No Content' } } },
      },
      '/things': {
        get: { operationId: 'listThings', parameters: [limit], responses: { 200: { description: 'OK', ...json('ThingList') } } },
        post: { operationId: 'createThing', requestBody: { required: true, ...json('Thing') }, responses: { 201: { description: 'Created', ...json('Thing') } } },
        patch: { operationId: 'patchThings', parameters: [structuredClone(limit)], responses: { 204: { description: 'No Content' } } },
      },
    },
    components: { responses: { NotFound: { description: 'Not found' } } },
  };
}

describe('parameters, responses and request bodies that operations repeat', () => {
  it('are defined once in components and referred to, parameters under the name given to them', () => {
    const doc: any = useOperationComponents(document(), { parameters: { ThingId: ['deleteThing', 'id'], Limit: ['listThings', 'limit'] } });
    const things = doc.paths['/things/{id}'];
    for (const op of [things.get, things.put, things.delete]) expect(op.parameters).toEqual([{ $ref: '#/components/parameters/ThingId' }]);
    expect(doc.paths['/things'].patch.parameters).toEqual([{ $ref: '#/components/parameters/Limit' }]);
    expect(doc.components.parameters).toEqual({ Limit: limit, ThingId: idParam });
    // Named after the schema they carry, with the status when it is not 200; without content, after the status.
    expect(things.get.responses).toEqual({ 200: { $ref: '#/components/responses/Thing' }, 404: { $ref: '#/components/responses/NotFound' } });
    expect(things.put.responses[202]).toEqual({ description: 'Accepted', ...json('Thing') });
    expect(things.delete.responses[204]).toEqual({ $ref: '#/components/responses/NoContent' });
    expect(Object.keys(doc.components.responses)).toEqual(['NoContent', 'NotFound', 'Thing']);
    expect(things.put.requestBody).toEqual({ $ref: '#/components/requestBodies/Thing' });
    expect(doc.components.requestBodies.Thing).toEqual({ required: true, ...json('Thing') });
    // What appears once stays where it is.
    expect(doc.paths['/things'].post.responses[201]).toEqual({ description: 'Created', ...json('Thing') });
  });

  it('refuses a parameter repeated without a name, a name whose parameter does not exist, and two names for one parameter', () => {
    expect(() => useOperationComponents(document(), { parameters: { ThingId: ['getThing', 'id'] } })).toThrow(
      /same parameter is declared by GET \/things query limit, PATCH \/things query limit: name it in OPENAPI_PARAMETERS/,
    );
    expect(() => useOperationComponents(document(), { parameters: { ThingId: ['getThing', 'id'], Limit: ['listThings', 'offset'] } })).toThrow(
      /listThings has no parameter offset/,
    );
    expect(() => useOperationComponents(document(), { parameters: { ThingId: ['getThing', 'id'], Limit: ['listThings', 'limit'], Other: ['putThing', 'id'] } })).toThrow(
      /parameters ThingId and Other are the same parameter/,
    );
  });

  it('refuses to name a repeated response whose schema has no name', () => {
    const doc: any = document();
    const inline = { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } };
    doc.paths['/things/{id}'].get.responses[200] = structuredClone(inline);
    doc.paths['/things/{id}'].put.responses[200] = structuredClone(inline);
    expect(() => useOperationComponents(doc, { parameters: { ThingId: ['getThing', 'id'], Limit: ['listThings', 'limit'] } })).toThrow(/give its schema a title/);
  });
});
