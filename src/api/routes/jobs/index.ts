import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParamsSchema, problems } from '../../schemas/common.schema.js';
import { NotFoundError } from '../../errors/index.js';
import * as jobsRepo from '../../../storage/jobs.repository.js';
import { cancelJob, submitJob, toJobView, metricView } from '../../services/jobs.service.js';
import { IDEMPOTENT_REPLAYED_HEADER } from '../../services/idempotency.js';
import { JobListQuerySchema, JobListSchema, JobSchema, MetricsListSchema, SubmitHeadersSchema, SubmitJobBodySchema } from './jobs.schema.js';

const jobsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, queue, config } = app.services;

  app.post(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'createJob',
        summary: 'Submit a training job',
        description:
          'Validates and plans the model (shapes and parameter counts by TensorFlow rules), checks it against the dataset, ' +
          'stores the job and queues it for a worker. Answers 202 at once; poll the job, stream its events or read its metrics. ' +
          'A job accepted while Redis is unreachable is stored and queued by a worker as soon as Redis is back.',
        headers: SubmitHeadersSchema,
        body: SubmitJobBodySchema,
        response: { 202: JobSchema, ...problems(400, 413, 415, 422, 429) },
      },
      config: { rateLimit: { max: config.RATE_LIMIT_SUBMIT, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      const { job, replayed, enqueued } = await submitJob({ db, queue, config }, request.tenantId, request.body, request.headers['idempotency-key']);
      if (!enqueued) request.log.warn({ jobId: job.id }, 'queue unreachable at submission; the job waits for a reconciler');
      const view = toJobView(job, replayed ? await jobsRepo.latestMetric(db, job.id) : null);
      if (replayed) reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
      return reply.status(202).header('location', view.links.self).send(view);
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'listJobs',
        summary: 'List jobs, newest first',
        querystring: JobListQuerySchema,
        response: { 200: JobListSchema, ...problems(400) },
      },
    },
    async (request) => {
      const { items, nextCursor } = await jobsRepo.listJobs(db, request.tenantId, request.query);
      const latest = await Promise.all(items.map((j) => jobsRepo.latestMetric(db, j.id)));
      return { items: items.map((j, i) => toJobView(j, latest[i])), nextCursor };
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'getJob',
        summary: 'Get a job: status, progress, latest metrics, engine, model',
        params: IdParamsSchema,
        response: { 200: JobSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const job = await jobsRepo.findJob(db, request.tenantId, request.params.id);
      if (!job) throw new NotFoundError('job', request.params.id);
      const [latest, history] = await Promise.all([jobsRepo.latestMetric(db, job.id), jobsRepo.listStateEvents(db, job.id)]);
      return toJobView(job, latest, history);
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'cancelJob',
        summary: 'Cancel a job',
        description:
          'A queued job is cancelled at once (200). A running job goes `cancelling` (202) and its worker stops after the current ' +
          'batch, then it is `cancelled`; metrics of finished epochs are kept. Cancelling again is harmless; cancelling a ' +
          'succeeded or failed job is a 409.',
        params: IdParamsSchema,
        response: { 200: JobSchema, 202: JobSchema, ...problems(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const outcome = await cancelJob({ db, queue, config }, request.tenantId, request.params.id);
      if (!outcome) throw new NotFoundError('job', request.params.id);
      const view = toJobView(outcome.job, await jobsRepo.latestMetric(db, outcome.job.id));
      return reply.status(outcome.accepted === 'cancelled' ? 200 : 202).send(view);
    },
  );

  app.get(
    '/v1/jobs/:id/metrics',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'listJobMetrics',
        summary: "A job's per-epoch metrics",
        description: 'One row per finished epoch: loss, accuracy, validation loss and accuracy, duration, examples per second.',
        params: IdParamsSchema,
        response: { 200: MetricsListSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      if (!(await jobsRepo.jobExists(db, request.tenantId, request.params.id))) throw new NotFoundError('job', request.params.id);
      const rows = await jobsRepo.listMetrics(db, request.params.id);
      return { jobId: request.params.id, items: rows.map(metricView) };
    },
  );
};

export default jobsRoutes;
