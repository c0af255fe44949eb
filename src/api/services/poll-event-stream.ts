import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dependencyOutage } from '../../infra/dependency-outage.js';
import { InvalidRequestError } from '../errors/index.js';
import type { EventStreamQuery } from '../schemas/event-stream.schema.js';

/**
 * The Server-Sent Events loop of the API's event streams (a job's, a
 * sweep's). Their durable events are rows in PostgreSQL with increasing
 * ids, so a stream polls for what is new, and a client that reconnects with
 * Last-Event-ID (header, or `lastEventId` in the query) gets exactly what
 * it missed, from any API process. This module owns what every stream does
 * alike: the resume point, the headers and `retry:`, polling, a keep-alive
 * comment when nothing was written for a while, and the end: the route's
 * final event, the client going away, or a `reconnect` event when this
 * process shuts down or loses a dependency. What to read and write on each
 * poll is the route's.
 */

const HEARTBEAT_MS = 15_000;
/** What a `reconnect` event (and the stream's `retry:`) tells clients to wait. */
const RECONNECT_MS = 2000;

/** Why a stream ends before its subject does: the client should reconnect (to any API process) with Last-Event-ID. */
interface GoingAway {
  reason: 'server-closing' | 'dependency-unavailable' | 'internal';
  detail: string;
}

function frame(event: string, data: unknown, id?: bigint): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** What a route's poll writes with. */
export interface EventStreamWriter {
  /** Writes an event; one with an id is durable, and the stream resumes after the last id written. */
  send(event: string, data: unknown, id?: bigint): void;
  /** The id after which the stream resumes: Last-Event-ID at first, then the last id sent. */
  readonly lastId: bigint;
}

export interface PollEventStreamRoute {
  /** How often `poll` runs, in ms. */
  pollMs: number;
  /** What the log calls this stream when it fails ("sweep event stream"). */
  name: string;
  /** Writes what is new since the last poll; 'end' once it has written the stream's last event (the stream then closes). */
  poll(stream: EventStreamWriter): Promise<'end' | undefined>;
}

/** What the loop needs of a request to a route whose query is EventStreamQuerySchema. */
type EventStreamRequest = Pick<FastifyRequest, 'headers' | 'raw' | 'log'> & { query: EventStreamQuery };

/** The resume point of a request: its Last-Event-ID header, else `lastEventId` in its query, else the start. */
function resumePoint(request: EventStreamRequest): bigint {
  const header = request.headers['last-event-id'];
  const resumeFrom = (Array.isArray(header) ? header[0] : header) ?? request.query.lastEventId ?? '0';
  if (!/^\d{1,18}$/.test(resumeFrom)) {
    throw new InvalidRequestError(`Last-Event-ID must be the id of an event of this stream, got ${JSON.stringify(resumeFrom)}`, [
      { field: 'header.last-event-id', message: 'must be a number' },
    ]);
  }
  return BigInt(resumeFrom);
}

/**
 * The event streams of one routes plugin: `open` answers a request with a
 * stream that `route` feeds. Streams still open when the app closes end with
 * a `reconnect` event, so their clients resume elsewhere.
 */
export function pollEventStreams(app: FastifyInstance) {
  const open = new Set<(goingAway?: GoingAway) => void>();
  app.addHook('preClose', async () => {
    for (const close of open) close({ reason: 'server-closing', detail: 'this API process is shutting down; reconnect with Last-Event-ID to resume' });
  });

  return {
    /** Checks the resume point (a 400 before anything is sent), then streams until the route's end, the client's, or ours. */
    async open(request: EventStreamRequest, reply: FastifyReply, route: PollEventStreamRoute): Promise<void> {
      let lastId = resumePoint(request);

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
        // Every stream ends with a terminal event: the route's own or `reconnect` (ours).
        if (goingAway && !res.destroyed) res.write(frame('reconnect', { ...goingAway, lastEventId: String(lastId), retryMs: RECONNECT_MS }));
        res.end();
      };
      open.add(close);
      request.raw.on('close', () => close());

      let lastWrite = Date.now();
      const writer: EventStreamWriter = {
        send(event, data, id) {
          res.write(frame(event, data, id));
          if (id !== undefined) lastId = id;
          lastWrite = Date.now();
        },
        get lastId() {
          return lastId;
        },
      };
      const tick = async () => {
        try {
          if ((await route.poll(writer)) === 'end') return close();
          if (Date.now() - lastWrite > HEARTBEAT_MS) {
            res.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
        } catch (err) {
          const away = dependencyOutage(err);
          if (away) return close({ reason: 'dependency-unavailable', detail: `${away} is unreachable; reconnect with Last-Event-ID in a few seconds` });
          request.log.error({ err }, `${route.name} failed`);
          return close({ reason: 'internal', detail: 'the stream failed on the server (logged); reconnect with Last-Event-ID' });
        }
        if (!closed) timer = setTimeout(tick, route.pollMs);
      };
      await tick();
    },
  };
}
