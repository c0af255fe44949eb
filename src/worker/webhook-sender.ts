import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedUrl } from '../infra/outbound-address.js';

/**
 * One webhook request: POST to the address the URL was checked to have (the
 * connection never resolves the name again, so a DNS answer that changed
 * since the check cannot redirect it), TLS still verified against the host
 * name, no redirect followed, no connection reused, the whole exchange
 * bounded in time and the response read only up to a cap.
 */

/** Response bytes kept for the delivery log; the rest is not read. */
export const RESPONSE_KEEP_BYTES = 4096;

export interface SendResult {
  /** Null when no response came; `error` says why. */
  statusCode: number | null;
  /** The first RESPONSE_KEEP_BYTES of the body, as text. */
  responseBody: string | null;
  /** Why the attempt did not get a usable answer (connection, timeout, a redirect not followed). */
  error: string | null;
  durationMs: number;
}

export interface SendOptions {
  target: CheckedUrl;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** A lookup that answers every name with the one checked address. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as (err: null, addresses: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

// PostgreSQL text cannot hold NUL; the log is for people, so a replacement character will do.
const printable = (text: string) => text.replaceAll('\u0000', '\uFFFD');

export function sendWebhook({ target, headers, body, timeoutMs }: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const { url, address, family } = target;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let statusCode: number | null = null;
    let redirect: string | null = null;
    const chunks: Buffer[] = [];
    let kept = 0;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      const text = chunks.length ? printable(Buffer.concat(chunks).subarray(0, RESPONSE_KEEP_BYTES).toString('utf8')) : statusCode === null ? null : '';
      resolve({ statusCode, responseBody: text, error, durationMs: Math.round(performance.now() - started) });
    };
    const request = client.request(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Trainyard-Webhooks/1', ...headers },
        lookup: pinnedLookup(address, family),
        // A fresh connection each time: a pooled one could lead to an address checked for another URL.
        agent: false,
      },
      (response) => {
        statusCode = response.statusCode ?? null;
        if (statusCode !== null && statusCode >= 300 && statusCode < 400) {
          redirect = `redirects are not followed (Location: ${String(response.headers.location ?? 'none').slice(0, 200)})`;
        }
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          kept += chunk.length;
          // Enough for the log: stop reading rather than take in an endless body.
          if (kept >= RESPONSE_KEEP_BYTES) finish(redirect);
        });
        response.on('end', () => finish(redirect));
        response.on('error', () => finish(redirect));
      },
    );
    // The receiver's answer is its status: a body still arriving at the deadline is cut, not an error.
    const timer = setTimeout(() => finish(statusCode === null ? `no response within ${timeoutMs} ms` : redirect), timeoutMs);
    request.on('error', (err: NodeJS.ErrnoException) => finish(statusCode === null ? describeError(err) : redirect));
    request.end(body);
  });
}

function describeError(err: NodeJS.ErrnoException): string {
  const code = err.code ? `${err.code}: ` : '';
  return `${code}${err.message}`.slice(0, 500);
}
