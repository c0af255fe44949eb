import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParamsSchema, problems } from '../../schemas/common.schema.js';
import { EventStreamQuerySchema } from '../../schemas/event-stream.schema.js';
import { NotFoundError } from '../../errors/index.js';
import * as jobsRepo from '../../../storage/jobs.repository.js';
import { pollEventStreams } from '../../services/poll-event-stream.js';

const POLL_MS = 250;

/**
 * Server-Sent Events of a job. Durable events (state changes, epoch metrics)
 * come from Postgres with their ids, so a client that reconnects with
 * Last-Event-ID gets exactly what it missed, whichever host trains the job.
 * Progress events carry no id: they are a view of the present. The stream
 * ends after the job reaches a final state.
 */
const eventsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.services;
  const streams = pollEventStreams(app);

  app.get(
    '/v1/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'streamJobEvents',
        summary: "Stream a job's events (Server-Sent Events)",
        description:
          'text/event-stream. Events: `state` ({status, at, ...}: every state change, with id), `metrics` (one per finished ' +
          'epoch, with id: the fields of GET /v1/jobs/{id}/metrics, learningRate included), `progress` ({epoch, epochs, batch, batchesPerEpoch, percent, loss, accuracy}, no id, at most 4 per second; ' +
          "`loss` and `accuracy` are the means of the current epoch's batches so far, null before its first batch), and " +
          '`end` ({status}) after which the server closes the stream. A stream that ends before its job does ends with ' +
          '`reconnect` ({reason, detail, lastEventId, retryMs}): the server is shutting down or lost PostgreSQL; reconnect ' +
          'with the Last-Event-ID header (or `lastEventId`) after `retryMs` to resume exactly where it stopped.',
        params: IdParamsSchema,
        querystring: EventStreamQuerySchema,
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'An event stream.' }), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const job = await jobsRepo.findJob(db, request.tenantId, request.params.id);
      if (!job) throw new NotFoundError('job', request.params.id);
      let lastProgress = '';
      await streams.open(request, reply, {
        pollMs: POLL_MS,
        name: 'event stream',
        async poll(stream) {
          for (;;) {
            const events = await jobsRepo.listEvents(db, job.id, stream.lastId);
            for (const e of events) {
              const data = e.type === 'state' ? { ...e.data, at: e.createdAt.toISOString() } : e.data;
              stream.send(e.type, data, e.id);
              if (e.type === 'state' && jobsRepo.isTerminalStatus(e.data.status)) {
                const { status } = e.data;
                stream.send('end', { status });
                return 'end';
              }
            }
            if (events.length < 200) break;
          }
          const row = await jobsRepo.findProgress(db, job.id);
          if (row && row.status !== 'queued') {
            const progress = { epoch: row.epoch, epochs: row.epochs, batch: row.batch, batchesPerEpoch: row.batchesPerEpoch, loss: row.batchLoss, accuracy: row.batchAccuracy };
            const key = JSON.stringify(progress);
            if (key !== lastProgress) {
              lastProgress = key;
              const done = row.batchesPerEpoch ? (row.epoch - 1 + row.batch / row.batchesPerEpoch) / row.epochs : 0;
              stream.send('progress', { ...progress, percent: Math.max(0, Math.min(100, Math.round(done * 1000) / 10)) });
            }
          }
          return undefined;
        },
      });
    },
  );
};

export default eventsRoutes;
