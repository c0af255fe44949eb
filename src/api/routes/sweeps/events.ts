import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParamsSchema, problems } from '../../schemas/common.schema.js';
import { EventStreamQuerySchema } from '../../schemas/event-stream.schema.js';
import { NotFoundError } from '../../errors/index.js';
import { isTerminalStatus } from '../../../storage/jobs.repository.js';
import * as sweepsRepo from '../../../storage/sweeps.repository.js';
import { pollEventStreams } from '../../services/poll-event-stream.js';
import { toSweepView } from '../../services/sweeps.service.js';

const POLL_MS = 500;

/**
 * Server-Sent Events of a sweep: its trials' results as they happen. The
 * durable events are the trial jobs' own (state changes and finished
 * epochs, with their ids), so Last-Event-ID resumes exactly, on any API
 * process; the sweep's progress and best trial are a view of the present.
 */
const sweepEventsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.services;
  const streams = pollEventStreams(app);

  app.get(
    '/v1/sweeps/:id/events',
    {
      schema: {
        tags: ['sweeps'],
        operationId: 'streamSweepEvents',
        summary: "Stream a sweep's trial results (Server-Sent Events)",
        description:
          'text/event-stream. Events: `trial` ({trial, jobId, status, at, ...}: a trial job changed state, with id; a final state adds ' +
          '`params`, `objective`, `epochs` and `stopReason`), `epoch` ({trial, jobId, epoch, objective, loss, accuracy, valLoss, valAccuracy}: ' +
          'a trial finished an epoch, with id), `sweep` ({status, progress, best}, no id: whenever they change), and `end` ({status, best}) ' +
          'once the sweep and all its trials have ended. A stream the server ends early ends with `reconnect` ({reason, detail, lastEventId, ' +
          'retryMs}); reconnect with the Last-Event-ID header (or `lastEventId`) to resume.',
        params: IdParamsSchema,
        querystring: EventStreamQuerySchema,
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: "An event stream of the sweep's trials." }), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const tenantId = request.tenantId;
      const found = await sweepsRepo.findSweep(db, tenantId, request.params.id);
      if (!found) throw new NotFoundError('sweep', request.params.id);
      const sweepId = found.id;
      const metric = found.spec.objective.metric;
      let lastSnapshot = '';
      await streams.open(request, reply, {
        pollMs: POLL_MS,
        name: 'sweep event stream',
        async poll(stream) {
          // Read before the events: a trial final here has its final event among those drained below.
          const sweep = (await sweepsRepo.findSweep(db, tenantId, sweepId)) ?? found;
          let trials = await sweepsRepo.listTrials(db, [sweepId]);
          for (;;) {
            const events = await sweepsRepo.listTrialEvents(db, sweepId, stream.lastId);
            for (const e of events) {
              let trial = trials.find((t) => t.jobId === e.jobId);
              if (!trial || (e.type === 'state' && isTerminalStatus(e.data.status) && !isTerminalStatus(trial.job.status))) {
                // Created or finished since the list was read.
                trials = await sweepsRepo.listTrials(db, [sweepId]);
                trial = trials.find((t) => t.jobId === e.jobId);
              }
              const index = trial?.index ?? null;
              if (e.type === 'state') {
                const { status, ...rest } = e.data;
                const final = isTerminalStatus(status) ? trial : undefined;
                stream.send(
                  'trial',
                  {
                    trial: index,
                    jobId: e.jobId,
                    status,
                    at: e.createdAt.toISOString(),
                    ...rest,
                    ...(final ? { params: final.params, objective: final.last?.[metric] ?? null, epochs: final.last?.epoch ?? 0, stopReason: final.job.stopReason } : {}),
                  },
                  e.id,
                );
              } else {
                const m = e.data;
                stream.send(
                  'epoch',
                  { trial: index, jobId: e.jobId, epoch: m.epoch, objective: m[metric], loss: m.loss, accuracy: m.accuracy, valLoss: m.valLoss, valAccuracy: m.valAccuracy },
                  e.id,
                );
              }
            }
            if (events.length < 200) break;
          }
          const { status, progress, best } = toSweepView(sweep, trials, { detail: false });
          const snapshot = JSON.stringify({ status, progress, best });
          if (snapshot !== lastSnapshot) {
            lastSnapshot = snapshot;
            stream.send('sweep', { status, progress, best });
          }
          if (sweepsRepo.TERMINAL_SWEEP_STATUSES.includes(status) && trials.every((t) => isTerminalStatus(t.job.status))) {
            stream.send('end', { status, best });
            return 'end';
          }
          return undefined;
        },
      });
    },
  );
};

export default sweepEventsRoutes;
