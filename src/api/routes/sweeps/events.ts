import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParamsSchema, problems } from '../../schemas/common.schema.js';
import { InvalidRequestError, NotFoundError } from '../../errors/index.js';
import { isTerminalStatus } from '../../../storage/jobs.repository.js';
import * as sweepsRepo from '../../../storage/sweeps.repository.js';
import { dependencyOutage } from '../../../infra/dependency-outage.js';
import { toSweepView } from '../../services/sweeps.service.js';

const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;
const RECONNECT_MS = 2000;

const EventsQuerySchema = Type.Object(
  { lastEventId: Type.Optional(Type.String({ pattern: '^\\d{1,18}$', description: 'Same as the Last-Event-ID header, for clients that cannot set headers.' })) },
  { additionalProperties: false },
);

function frame(event: string, data: unknown, id?: bigint): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Server-Sent Events of a sweep: its trials' results as they happen. The
 * durable events are the trial jobs' own (state changes and finished
 * epochs, with their ids), so Last-Event-ID resumes exactly, on any API
 * process; the sweep's progress and best trial are a view of the present.
 */
const sweepEventsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.services;
  const open = new Set<(reason?: { reason: string; detail: string }) => void>();
  app.addHook('preClose', async () => {
    for (const close of open) close({ reason: 'server-closing', detail: 'this API process is shutting down; reconnect with Last-Event-ID to resume' });
  });

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
        querystring: EventsQuerySchema,
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
      const header = request.headers['last-event-id'];
      const resumeFrom = (Array.isArray(header) ? header[0] : header) ?? request.query.lastEventId ?? '0';
      if (!/^\d{1,18}$/.test(resumeFrom)) {
        throw new InvalidRequestError(`Last-Event-ID must be the id of an event of this stream, got ${JSON.stringify(resumeFrom)}`, [
          { field: 'header.last-event-id', message: 'must be a number' },
        ]);
      }
      let lastId = BigInt(resumeFrom);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(`retry: ${RECONNECT_MS}\n\n`);

      let closed = false;
      let timer: NodeJS.Timeout | undefined;
      const close = (goingAway?: { reason: string; detail: string }) => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        open.delete(close);
        if (goingAway && !res.destroyed) res.write(frame('reconnect', { ...goingAway, lastEventId: String(lastId), retryMs: RECONNECT_MS }));
        res.end();
      };
      open.add(close);
      request.raw.on('close', () => close());

      let lastSnapshot = '';
      let lastWrite = Date.now();
      const tick = async () => {
        try {
          // Read before the events: a trial final here has its final event among those drained below.
          const sweep = (await sweepsRepo.findSweep(db, tenantId, sweepId)) ?? found;
          let trials = await sweepsRepo.listTrials(db, [sweepId]);
          for (;;) {
            const events = await sweepsRepo.listTrialEvents(db, sweepId, lastId);
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
                res.write(
                  frame(
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
                  ),
                );
              } else {
                const m = e.data;
                res.write(
                  frame(
                    'epoch',
                    { trial: index, jobId: e.jobId, epoch: m.epoch, objective: m[metric], loss: m.loss, accuracy: m.accuracy, valLoss: m.valLoss, valAccuracy: m.valAccuracy },
                    e.id,
                  ),
                );
              }
              lastId = e.id;
              lastWrite = Date.now();
            }
            if (events.length < 200) break;
          }
          const { status, progress, best } = toSweepView(sweep, trials, { detail: false });
          const snapshot = JSON.stringify({ status, progress, best });
          if (snapshot !== lastSnapshot) {
            lastSnapshot = snapshot;
            res.write(frame('sweep', { status, progress, best }));
            lastWrite = Date.now();
          }
          if (sweepsRepo.TERMINAL_SWEEP_STATUSES.includes(status) && trials.every((t) => isTerminalStatus(t.job.status))) {
            res.write(frame('end', { status, best }));
            return close();
          }
          if (Date.now() - lastWrite > HEARTBEAT_MS) {
            res.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
        } catch (err) {
          const away = dependencyOutage(err);
          if (away) return close({ reason: 'dependency-unavailable', detail: `${away} is unreachable; reconnect with Last-Event-ID in a few seconds` });
          request.log.error({ err }, 'sweep event stream failed');
          return close({ reason: 'internal', detail: 'the stream failed on the server (logged); reconnect with Last-Event-ID' });
        }
        if (!closed) timer = setTimeout(tick, POLL_MS);
      };
      await tick();
    },
  );
};

export default sweepEventsRoutes;
