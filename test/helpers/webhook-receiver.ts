import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when its body had arrived. */
  at: number;
}

/** How to answer the n-th request (0-based): a status, or write the response yourself. */
export type Responder = (request: ReceivedWebhook, n: number, response: ServerResponse) => number | 'handled';

export interface WebhookReceiver {
  /** http://127.0.0.1:<port><path> */
  url(path?: string): string;
  port: number;
  received: ReceivedWebhook[];
  /** The parsed bodies of the requests received so far. */
  messages(): { type: string; timestamp: string; data: Record<string, unknown> }[];
  respondWith(responder: Responder): void;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1 for tests: records every request and
 * answers as told (204 by default).
 */
export async function startWebhookReceiver(responder: Responder = () => 204): Promise<WebhookReceiver> {
  let respond = responder;
  const received: ReceivedWebhook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      received.push(request);
      const status = respond(request, received.length - 1, res);
      if (status !== 'handled') res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    port,
    received,
    messages: () => received.map((r) => JSON.parse(r.body)),
    respondWith(next) {
      respond = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The receiver's side of Standard Webhooks, written from the specification:
 * HMAC-SHA256 keyed with the base64 after whsec_, over "id.timestamp.body",
 * compared in constant time against each v1 signature of the header.
 */
export function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest();
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .some((entry) => {
      const [version, signature] = entry.split(',');
      const given = Buffer.from(signature ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}
