import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParamsSchema, PageQuerySchema, problems } from '../../schemas/common.schema.js';
import { ConflictError, NotFoundError } from '../../errors/index.js';
import { newWebhookSecret } from '../../../infra/standard-webhooks.js';
import * as webhooks from '../../../storage/webhooks.repository.js';
import { checkWebhookUrl, deliveryView, endpointView, endpointWithSecretView } from '../../services/webhooks.service.js';
import {
  CreateWebhookBodySchema,
  DeliveryListQuerySchema,
  DeliveryParamsSchema,
  UpdateWebhookBodySchema,
  WebhookDeliveryListSchema,
  WebhookDeliverySchema,
  WebhookEndpointListSchema,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
} from './webhooks.schema.js';

/**
 * Webhook endpoints of the tenant, and the deliveries made to them. Another
 * tenant's endpoints and deliveries answer 404 like ones that do not exist.
 * The messages themselves are sent by the delivery process (npm run webhooks).
 */
const webhooksRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config } = app.services;
  const endpointMiss = (id: string) => new NotFoundError('webhook endpoint', id);

  app.post(
    '/v1/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'createWebhook',
        summary: 'Register a webhook endpoint: its URL and the event types it receives',
        description:
          'Answers 201 with the endpoint and its signing `secret`, which is shown only here. The URL must resolve to public addresses ' +
          '(checked now, and again before every request). Messages follow the Standard Webhooks specification; failed deliveries are ' +
          'retried with exponential backoff for up to a day (the server may set another period).',
        body: CreateWebhookBodySchema,
        response: { 201: WebhookEndpointWithSecretSchema, ...problems(400, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { url, events, description, enabled } = request.body;
      await checkWebhookUrl(config, url);
      const outcome = await webhooks.createWebhookEndpoint(db, {
        tenantId: request.tenantId,
        url,
        events,
        description: description ?? null,
        enabled: enabled ?? true,
        secret: newWebhookSecret(),
        queueName: config.QUEUE_NAME,
      });
      if ('limit' in outcome) {
        throw new ConflictError('webhook-limit', `a tenant has at most ${outcome.limit} webhook endpoints; delete one first`, { limit: outcome.limit });
      }
      const view = endpointWithSecretView(outcome.created);
      return reply.status(201).header('location', view.links.self).send(view);
    },
  );

  app.get(
    '/v1/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhooks',
        summary: 'List webhook endpoints, newest first (without their secrets)',
        querystring: PageQuerySchema,
        response: { 200: WebhookEndpointListSchema, ...problems(400) },
      },
    },
    async (request) => {
      const { items, nextCursor } = await webhooks.listWebhookEndpoints(db, request.tenantId, request.query);
      return { items: items.map(endpointView), nextCursor };
    },
  );

  app.get(
    '/v1/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'getWebhook',
        summary: 'Get a webhook endpoint (without its secret)',
        params: IdParamsSchema,
        response: { 200: WebhookEndpointSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const found = await webhooks.findWebhookEndpoint(db, request.tenantId, request.params.id);
      if (!found) throw endpointMiss(request.params.id);
      return endpointView(found);
    },
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'updateWebhook',
        summary: 'Change the URL, event types, description, or enable or disable an endpoint',
        description: 'Only the fields sent change; `events` replaces the list. A new URL is checked as at registration. The secret stays.',
        params: IdParamsSchema,
        body: UpdateWebhookBodySchema,
        response: { 200: WebhookEndpointSchema, ...problems(400, 404, 413, 415) },
      },
    },
    async (request) => {
      if (request.body.url !== undefined) await checkWebhookUrl(config, request.body.url);
      const updated = await webhooks.updateWebhookEndpoint(db, request.tenantId, request.params.id, request.body);
      if (!updated) throw endpointMiss(request.params.id);
      return endpointView(updated);
    },
  );

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret',
        description: 'Answers with the new secret, shown only here. Every request from now on, retries of earlier messages included, is signed with it.',
        params: IdParamsSchema,
        response: { 200: WebhookEndpointWithSecretSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const updated = await webhooks.updateWebhookEndpoint(db, request.tenantId, request.params.id, { secret: newWebhookSecret() });
      if (!updated) throw endpointMiss(request.params.id);
      return endpointWithSecretView(updated);
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook endpoint and its delivery log',
        description: 'Nothing more is sent to it, retries included.',
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      if (!(await webhooks.deleteWebhookEndpoint(db, request.tenantId, request.params.id))) throw endpointMiss(request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'listWebhookDeliveries',
        summary: "List an endpoint's deliveries, newest event first, each with its attempts and the responses they got",
        params: IdParamsSchema,
        querystring: DeliveryListQuerySchema,
        response: { 200: WebhookDeliveryListSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await webhooks.findWebhookEndpoint(db, request.tenantId, id))) throw endpointMiss(id);
      const { items, nextCursor } = await webhooks.listWebhookDeliveries(db, request.tenantId, id, request.query);
      return { items: items.map(deliveryView), nextCursor };
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries/:deliveryId',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'getWebhookDelivery',
        summary: 'Get one delivery with its attempts',
        params: DeliveryParamsSchema,
        response: { 200: WebhookDeliverySchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const { id, deliveryId } = request.params;
      const found = await webhooks.findWebhookDelivery(db, request.tenantId, id, deliveryId);
      if (!found) throw new NotFoundError('webhook delivery', deliveryId);
      return deliveryView(found);
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags: ['webhooks'],
        operationId: 'redeliverWebhook',
        summary: 'Send a delivery again',
        description:
          'Starts a new round of the delivery, whatever its state: the same message (same webhook-id and body), signed anew, sent as soon as ' +
          'the delivery process takes it and retried as a new event would be. A pending delivery is sent now instead of at its next attempt.',
        params: DeliveryParamsSchema,
        response: { 202: WebhookDeliverySchema, ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const { id, deliveryId } = request.params;
      const found = await webhooks.requestRedelivery(db, request.tenantId, id, deliveryId);
      if (!found) throw new NotFoundError('webhook delivery', deliveryId);
      return reply.status(202).send(deliveryView(found));
    },
  );
};

export default webhooksRoutes;
