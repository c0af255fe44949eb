import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problems } from '../../schemas/common.schema.js';
import * as registry from '../../../storage/registry.repository.js';
import { aliasConflict, aliasView, detailView, registerVersion, registryMiss, summaryView, versionView } from '../../services/registry.service.js';
import {
  AliasParamsSchema,
  AliasSchema,
  ModelVersionSchema,
  NameParamsSchema,
  RegisteredModelListSchema,
  RegisteredModelSchema,
  RegisterVersionBodySchema,
  RegistryListQuerySchema,
  SetAliasBodySchema,
  VersionParamsSchema,
} from './registered-models.schema.js';

/**
 * The model registry: names for lines of trained models, numbered versions
 * with their lineage, and aliases. Everything is per tenant: another tenant's
 * names answer 404 like names that do not exist.
 */
const registeredModelsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, served } = app.services;

  // Serving caches what names resolve to: a change made here is served from the next request on, not a second later.
  app.addHook('onSend', async (request, reply) => {
    const { name } = (request.params ?? {}) as { name?: string };
    if (request.method !== 'GET' && reply.statusCode < 300 && name) served.invalidate(request.tenantId, name);
  });

  app.post(
    '/v1/registered-models/:name/versions',
    {
      schema: {
        tags: ['registry'],
        operationId: 'createModelVersion',
        summary: 'Register a trained model as the next version of a name',
        description:
          'Creates the registered model on first use. Versions are numbered 1, 2, 3... and a number is never reused, even after ' +
          'its version is deleted. The lineage (job, spec hash, dataset and its content hash, hyperparameters, metrics, engine) ' +
          'is captured now. A model that is already a version of this name is a 409 naming that version.',
        params: NameParamsSchema,
        body: RegisterVersionBodySchema,
        response: { 201: ModelVersionSchema, ...problems(400, 404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const record = await registerVersion(db, request.tenantId, request.params.name, request.body.modelId);
      const view = versionView(record);
      return reply.status(201).header('location', view.links.self).send(view);
    },
  );

  app.get(
    '/v1/registered-models',
    {
      schema: {
        tags: ['registry'],
        operationId: 'listRegisteredModels',
        summary: 'List registered models by name, with their latest version and aliases',
        querystring: RegistryListQuerySchema,
        response: { 200: RegisteredModelListSchema, ...problems(400) },
      },
    },
    async (request) => {
      const { items, nextCursor } = await registry.listRegisteredModels(db, request.tenantId, { limit: request.query.limit, after: request.query.cursor });
      return { items: items.map(summaryView), nextCursor };
    },
  );

  app.get(
    '/v1/registered-models/:name',
    {
      schema: {
        tags: ['registry'],
        operationId: 'getRegisteredModel',
        summary: 'Get a registered model: every version with its lineage, and the aliases',
        params: NameParamsSchema,
        response: { 200: RegisteredModelSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const found = await registry.getRegisteredModel(db, request.tenantId, request.params.name);
      if (!found) throw registryMiss('name', request.params.name);
      return detailView(found);
    },
  );

  app.get(
    '/v1/registered-models/:name/versions/:version',
    {
      schema: {
        tags: ['registry'],
        operationId: 'getModelVersion',
        summary: 'Get one version of a registered model, with its lineage',
        params: VersionParamsSchema,
        response: { 200: ModelVersionSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const { name, version } = request.params;
      const found = await registry.getModelVersion(db, request.tenantId, name, version);
      if ('missing' in found) throw registryMiss(found.missing, name, { version });
      return versionView(found);
    },
  );

  app.delete(
    '/v1/registered-models/:name/versions/:version',
    {
      schema: {
        tags: ['registry'],
        operationId: 'deleteModelVersion',
        summary: 'Delete a version',
        description:
          'The trained model itself is kept. A version that an alias points at is a 409 naming the aliases: move or delete them first. ' + 'The number is not given out again.',
        params: VersionParamsSchema,
        response: { 204: Type.Null(), ...problems(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { name, version } = request.params;
      const outcome = await registry.deleteModelVersion(db, request.tenantId, name, version);
      if ('missing' in outcome) throw registryMiss(outcome.missing, name, { version });
      if ('aliasedBy' in outcome) throw aliasConflict(name, version, outcome.aliasedBy);
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/v1/registered-models/:name/aliases/:alias',
    {
      schema: {
        tags: ['registry'],
        operationId: 'setModelAlias',
        summary: 'Point an alias at a version (creates it, or moves it)',
        description: 'Aliases are names such as `production` for one version. `latest` is reserved: it always means the highest version.',
        params: AliasParamsSchema,
        body: SetAliasBodySchema,
        response: { 200: AliasSchema, ...problems(400, 404, 413, 415) },
      },
    },
    async (request) => {
      const { name, alias } = request.params;
      const { version } = request.body;
      const outcome = await registry.setModelAlias(db, request.tenantId, name, alias, version);
      if ('missing' in outcome) throw registryMiss(outcome.missing, name, { version, alias });
      return aliasView(name, outcome.alias);
    },
  );

  app.delete(
    '/v1/registered-models/:name/aliases/:alias',
    {
      schema: {
        tags: ['registry'],
        operationId: 'deleteModelAlias',
        summary: 'Delete an alias',
        description: 'The version it pointed at is kept.',
        params: AliasParamsSchema,
        response: { 204: Type.Null(), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const { name, alias } = request.params;
      const outcome = await registry.deleteModelAlias(db, request.tenantId, name, alias);
      if ('missing' in outcome) throw registryMiss(outcome.missing, name, { alias });
      return reply.status(204).send(null);
    },
  );
};

export default registeredModelsRoutes;
