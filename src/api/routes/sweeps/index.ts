import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParamsSchema, problems } from '../../schemas/common.schema.js';
import { NotFoundError } from '../../errors/index.js';
import * as sweepsRepo from '../../../storage/sweeps.repository.js';
import { cancelSweep, submitSweep, toSweepView } from '../../services/sweeps.service.js';
import { IDEMPOTENT_REPLAYED_HEADER } from '../../services/idempotency.js';
import { SubmitSweepBodySchema, SubmitSweepHeadersSchema, SweepListQuerySchema, SweepListSchema, SweepSchema } from './sweeps.schema.js';

/**
 * Hyperparameter sweeps of the tenant. Another tenant's sweeps answer 404
 * like ones that do not exist. Trials are created and judged by the sweep
 * controller (src/sweep), which the API runs after a submission or a
 * cancel and every worker runs after a trial ends and in its reconcile loop.
 */
const sweepsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, queue, config } = app.services;

  app.post(
    '/v1/sweeps',
    {
      schema: {
        tags: ['sweeps'],
        operationId: 'createSweep',
        summary: 'Start a hyperparameter sweep',
        description:
          'Checks the base job, every path of the space with every value it can take, and every trial known in advance (all of them ' +
          "for grid and random search; TPE's random start and the corners of its space) against the model language, the dataset and the " +
          "tenant's quotas, before anything runs. Then stores the sweep and queues its first `parallelism` trials, each an ordinary job " +
          'with `sweepId` set. Answers 202 with the sweep; follow it with GET /v1/sweeps/{id} or its event stream. With an `Idempotency-Key`, ' +
          'a retry with the same body answers the same sweep and creates nothing.',
        headers: SubmitSweepHeadersSchema,
        body: SubmitSweepBodySchema,
        response: { 202: SweepSchema, ...problems(400, 413, 415, 422, 429) },
      },
      config: { rateLimit: { max: config.RATE_LIMIT_SUBMIT, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      const { resource: sweep, replayed } = await submitSweep({ db, queue, config }, request.tenantId, request.body, request.headers['idempotency-key']);
      const [fresh, trials] = await Promise.all([sweepsRepo.findSweep(db, request.tenantId, sweep.id), sweepsRepo.listTrials(db, [sweep.id])]);
      const view = toSweepView(fresh ?? sweep, trials, { detail: true });
      if (replayed) reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
      return reply.status(202).header('location', view.links.self).send(view);
    },
  );

  app.get(
    '/v1/sweeps',
    {
      schema: {
        tags: ['sweeps'],
        operationId: 'listSweeps',
        summary: 'List sweeps, newest first',
        description: 'Each with its progress and best trial; GET /v1/sweeps/{id} has every trial.',
        querystring: SweepListQuerySchema,
        response: { 200: SweepListSchema, ...problems(400) },
      },
    },
    async (request) => {
      const { items, nextCursor } = await sweepsRepo.listSweeps(db, request.tenantId, request.query);
      const trials = await sweepsRepo.listTrials(
        db,
        items.map((s) => s.id),
      );
      return {
        items: items.map((s) =>
          toSweepView(
            s,
            trials.filter((t) => t.sweepId === s.id),
            { detail: false },
          ),
        ),
        nextCursor,
      };
    },
  );

  app.get(
    '/v1/sweeps/:id',
    {
      schema: {
        tags: ['sweeps'],
        operationId: 'getSweep',
        summary: 'Get a sweep: status, progress, every trial with its parameters and objective, the best trial and its model',
        params: IdParamsSchema,
        response: { 200: SweepSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const sweep = await sweepsRepo.findSweep(db, request.tenantId, request.params.id);
      if (!sweep) throw new NotFoundError('sweep', request.params.id);
      return toSweepView(sweep, await sweepsRepo.listTrials(db, [sweep.id]), { detail: true });
    },
  );

  app.post(
    '/v1/sweeps/:id/cancel',
    {
      schema: {
        tags: ['sweeps'],
        operationId: 'cancelSweep',
        summary: 'Cancel a sweep and its unfinished trials',
        description:
          'The sweep is `cancelled` at once and creates no more trials; its queued trials are cancelled, its running ones go `cancelling` ' +
          'and stop after their current batch. Finished trials and their models stay. Cancelling again is harmless; cancelling a ' +
          'succeeded or failed sweep is a 409.',
        params: IdParamsSchema,
        response: { 200: SweepSchema, ...problems(400, 404, 409) },
      },
    },
    async (request) => {
      const sweep = await cancelSweep({ db, queue, config }, request.tenantId, request.params.id);
      if (!sweep) throw new NotFoundError('sweep', request.params.id);
      return toSweepView(sweep, await sweepsRepo.listTrials(db, [sweep.id]), { detail: true });
    },
  );
};

export default sweepsRoutes;
