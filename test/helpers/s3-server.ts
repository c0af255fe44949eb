import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { AppConfig } from '../../src/config/config.js';

/** s3rver's built-in account: it checks request signatures against it. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

export interface S3TestServer {
  endpoint: string;
  /** A client of the server, for checks behind the store's back. */
  client: S3Client;
  /** Creates an empty bucket of its own for a test. */
  createBucket(): Promise<string>;
  /** Settings that make a process use `bucket` (under `prefix`) as its artifact store. */
  storageConfig(bucket: string, prefix?: string): Partial<AppConfig>;
  /** Object keys in `bucket` (under `prefix`). */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** Deletes `bucket` and everything in it, as an operator's mistake would. */
  deleteBucket(bucket: string): Promise<void>;
  /** The server stops: open connections are cut and new ones refused. */
  stop(): Promise<void>;
  /** The server listens again on the same port, with the same data. */
  restart(): Promise<void>;
  /** The next request the server receives stops it: that request's connection is cut, later ones refused. */
  stopOnNextRequest(): Promise<void>;
  /** Every request is answered 503 ServiceUnavailable (and listed, as "METHOD path") until `end()`. */
  answer503(): { requests: string[]; end(): void };
  close(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver, in this process) on 127.0.0.1 with a
 * temporary directory: the object store the S3 tests and the processes they
 * start talk to over HTTP, as they would to MinIO or AWS.
 */
export async function startS3Server(): Promise<S3TestServer> {
  const directory = mkdtempSync(path.join(tmpdir(), 'trainyard-s3-'));
  let armed: (() => void) | null = null;
  let refused: string[] | null = null;
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  // s3rver is a Koa app; its middleware list is composed when it starts listening.
  server.middleware.unshift(async (ctx, next) => {
    if (refused) {
      refused.push(`${ctx.method} ${ctx.path}`);
      ctx.status = 503;
      ctx.type = 'application/xml';
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>The store is down for a test.</Message></Error>';
      return;
    }
    const trip = armed;
    if (!trip) return next();
    armed = null;
    ctx.respond = false;
    ctx.req.socket.destroy();
    trip();
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  let running = true;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  async function keys(bucket: string, prefix = ''): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      out.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async function stop(): Promise<void> {
    if (!running) return;
    running = false;
    const closed = server.close();
    server.httpServer.closeAllConnections();
    await closed;
  }

  return {
    endpoint,
    client,
    async createBucket() {
      const bucket = `test-${randomBytes(6).toString('hex')}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    storageConfig: (bucket, prefix = 'trainyard') => ({
      STORAGE_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    }),
    keys,
    async deleteBucket(bucket) {
      const all = await keys(bucket);
      if (all.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: all.map((Key) => ({ Key })) } }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    },
    stop,
    async restart() {
      if (running) return;
      server.serverOptions.port = port;
      await server.run();
      running = true;
    },
    stopOnNextRequest() {
      return new Promise<void>((resolve) => {
        armed = () => void stop().then(resolve);
      });
    },
    answer503() {
      const requests: string[] = [];
      refused = requests;
      return {
        requests,
        end: () => {
          refused = null;
        },
      };
    },
    async close() {
      client.destroy();
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
