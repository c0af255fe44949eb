import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParamsSchema, problems } from '../../schemas/common.schema.js';
import { InvalidRequestError, NotFoundError } from '../../errors/index.js';
import * as jobsRepo from '../../../storage/jobs.repository.js';
import { dependencyOutage } from '../../../infra/dependency-outage.js';

const POLL_MS = 250;
const HEARTBEAT_MS = 15_000;
/** What a `reconnect` event (and the stream's `retry:`) tells clients to wait. */
const RECONNECT_MS = 2000;

const EventsQuerySchema = Type.Object(
  { lastEventId: Type.Optional(Type.String({ pattern: '^\\d{1,18}$', description: 'Same as the Last-Event-ID header, for clients that cannot set headers.' })) },
  { additionalProperties: false },
);

/** Why a stream ends before its job does: the client should reconnect (to any API process) with Last-Event-ID. */
interface GoingAway {
  reason: 'server-closing' | 'dependency-unavailable' | 'internal';
  detail: string;
}

function frame(event: string, data: unknown, id?: bigint): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Server-Sent Events of a job. Durable events (state changes, epoch metrics)
 * come from Postgres with their ids, so a client that reconnects with
 * Last-Event-ID gets exactly what it missed, whichever host trains the job.
 * Progress events carry no id: they are a view of the present. The stream
 * ends after the job reaches a final state.
 */
const eventsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.services;
  const open = new Set<(goingAway?: GoingAway) => void>();
  app.addHook('preClose', async () => {
    for (const close of open) close({ reason: 'server-closing', detail: 'this API process is shutting down; reconnect with Last-Event-ID to resume' });
  });

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
        querystring: EventsQuerySchema,
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'An event stream.' }), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const job = await jobsRepo.findJob(db, request.tenantId, request.params.id);
      if (!job) throw new NotFoundError('job', request.params.id);
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
      const close = (goingAway?: GoingAway) => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        open.delete(close);
        // Every stream ends with a terminal event: `end` (the job's) or `reconnect` (ours).
        if (goingAway && !res.destroyed) res.write(frame('reconnect', { ...goingAway, lastEventId: String(lastId), retryMs: RECONNECT_MS }));
        res.end();
      };
      open.add(close);
      request.raw.on('close', () => close());

      let lastProgress = '';
      let lastWrite = Date.now();
      const tick = async () => {
        try {
          for (;;) {
            const events = await jobsRepo.listEvents(db, job.id, lastId);
            for (const e of events) {
              const data = e.type === 'state' ? { ...e.data, at: e.createdAt.toISOString() } : e.data;
              res.write(frame(e.type, data, e.id));
              lastId = e.id;
              if (e.type === 'state' && jobsRepo.isTerminalStatus(e.data.status)) {
                const { status } = e.data;
                res.write(frame('end', { status }));
                return close();
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
              res.write(frame('progress', { ...progress, percent: Math.max(0, Math.min(100, Math.round(done * 1000) / 10)) }));
              lastWrite = Date.now();
            }
          }
          if (Date.now() - lastWrite > HEARTBEAT_MS) {
            res.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
        } catch (err) {
          const away = dependencyOutage(err);
          if (away) return close({ reason: 'dependency-unavailable', detail: `${away} is unreachable; reconnect with Last-Event-ID in a few seconds` });
          request.log.error({ err }, 'event stream failed');
          return close({ reason: 'internal', detail: 'the stream failed on the server (logged); reconnect with Last-Event-ID' });
        }
        if (!closed) timer = setTimeout(tick, POLL_MS);
      };
      await tick();
    },
  );
};

export default eventsRoutes;
