import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactStoreFor, DiskArtifactStore, type ArtifactStore } from '../../src/storage/artifact-store.js';
import { dependencyOutage } from '../../src/infra/dependency-outage.js';
import { loadConfig } from '../../src/config/config.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

/**
 * One contract, two stores: every case runs against the disk store and
 * against the S3 store talking to a real S3-protocol server.
 */
let s3: S3TestServer;
const dirs: string[] = [];

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function s3Store(prefix = 'artifacts'): Promise<{ store: ArtifactStore; bucket: string }> {
  const bucket = await s3.createBucket();
  return { store: artifactStoreFor(loadConfig({}, s3.storageConfig(bucket, prefix))), bucket };
}

const STORES: [string, () => Promise<ArtifactStore>][] = [
  [
    'disk',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'trainyard-store-'));
      dirs.push(dir);
      return new DiskArtifactStore(dir);
    },
  ],
  ['s3', async () => (await s3Store()).store],
];

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.each(STORES)('artifact store contract: %s', (_kind, makeStore) => {
  let store: ArtifactStore;
  beforeAll(async () => {
    store = await makeStore();
  });

  it('stores a key of files and reads each back byte for byte; the count of bytes written is returned', async () => {
    const weights = randomBytes(100_003);
    const written = await store.put('models/m1', { 'model.json': '{"ü":1}', 'weights.bin': weights });
    expect(written).toBe(Buffer.byteLength('{"ü":1}') + weights.length);
    expect((await store.get('models/m1', 'model.json'))!.toString('utf8')).toBe('{"ü":1}');
    expect((await store.get('models/m1', 'weights.bin'))!.equals(weights)).toBe(true);
  });

  it('stores a view into a larger buffer as the view, not the buffer behind it', async () => {
    const whole = randomBytes(4096);
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 1000, 777);
    await store.put('datasets/view', { 'x.bin': view, 'empty.bin': new Uint8Array(0) });
    expect((await store.get('datasets/view', 'x.bin'))!.equals(whole.subarray(1000, 1777))).toBe(true);
    expect((await store.get('datasets/view', 'empty.bin'))!.length).toBe(0);
  });

  it('answers null for a key or file that is not there', async () => {
    await store.put('models/m2', { 'model.json': '{}' });
    expect(await store.get('models/none', 'model.json')).toBeNull();
    expect(await store.get('models/m2', 'weights.bin')).toBeNull();
    expect(await store.getRange('models/none', 'x.bin', 0, 10)).toBeNull();
    expect(await store.open('models/none', 'model.json')).toBeNull();
    expect(await store.open('models/m2', 'weights.bin')).toBeNull();
  });

  it('reads a range without the rest: inside the file, cut at its end, and past it', async () => {
    const bytes = randomBytes(10_000);
    await store.put('datasets/r', { 'x.bin': bytes });
    expect((await store.getRange('datasets/r', 'x.bin', 0, 16))!.equals(bytes.subarray(0, 16))).toBe(true);
    expect((await store.getRange('datasets/r', 'x.bin', 4000, 1234))!.equals(bytes.subarray(4000, 5234))).toBe(true);
    expect((await store.getRange('datasets/r', 'x.bin', 9990, 100))!.equals(bytes.subarray(9990))).toBe(true);
    expect((await store.getRange('datasets/r', 'x.bin', 10_000, 5))!.length).toBe(0);
  });

  it('streams a file whole or a byte range of it, knowing its size first', async () => {
    const bytes = randomBytes(300_000);
    await store.put('models/s', { 'weights.bin': bytes });
    const file = (await store.open('models/s', 'weights.bin'))!;
    expect(file.size).toBe(bytes.length);
    expect((await readAll(await file.read())).equals(bytes)).toBe(true);
    expect((await readAll(await file.read({ start: 1000, end: 1999 }))).equals(bytes.subarray(1000, 2000))).toBe(true);
    expect((await readAll(await file.read({ start: 299_999, end: 299_999 }))).equals(bytes.subarray(299_999))).toBe(true);
  });

  it('replaces a key whole: files of the earlier write that the new one lacks are gone', async () => {
    await store.put('checkpoints/j/epoch-1/model', { 'model.json': 'old', 'weights.bin': 'old weights' });
    await store.put('checkpoints/j/epoch-1/model', { 'model.json': 'new' });
    expect((await store.get('checkpoints/j/epoch-1/model', 'model.json'))!.toString()).toBe('new');
    expect(await store.get('checkpoints/j/epoch-1/model', 'weights.bin')).toBeNull();
  });

  it('shows no file of a key until every file of the write is stored', async () => {
    const files = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`part-${i}.bin`, randomBytes(200_000)]));
    let done = false;
    const writing = store.put('datasets/atomic', files).finally(() => {
      done = true;
    });
    let missing = 0;
    while (!done) {
      const first = await store.get('datasets/atomic', 'part-0.bin');
      if (first === null) {
        missing++;
        continue;
      }
      // A read that ends just after the write is published (before `done` is set) sees it: then all of it, whole.
      expect(first.equals(files['part-0.bin'])).toBe(true);
      expect((await store.get('datasets/atomic', 'part-11.bin'))?.equals(files['part-11.bin'])).toBe(true);
    }
    await writing;
    // The reader did look while the write ran, and found nothing before it was complete.
    expect(missing).toBeGreaterThan(0);
    for (const [name, bytes] of Object.entries(files)) expect((await store.get('datasets/atomic', name))!.equals(bytes), name).toBe(true);
  });

  it('removes a key and every key below it, and nothing beside it', async () => {
    await store.put('checkpoints/r1/epoch-1/model', { 'model.json': 'a' });
    await store.put('checkpoints/r1/epoch-2/model', { 'model.json': 'b' });
    await store.put('checkpoints/r10/epoch-1/model', { 'model.json': 'c' });
    await store.remove('checkpoints/r1/epoch-1');
    expect(await store.get('checkpoints/r1/epoch-1/model', 'model.json')).toBeNull();
    expect((await store.get('checkpoints/r1/epoch-2/model', 'model.json'))!.toString()).toBe('b');
    await store.remove('checkpoints/r1');
    expect(await store.get('checkpoints/r1/epoch-2/model', 'model.json')).toBeNull();
    expect((await store.get('checkpoints/r10/epoch-1/model', 'model.json'))!.toString()).toBe('c');
    // Removing what is not there is no error.
    await store.remove('checkpoints/never');
  });

  it('refuses keys and file names that could leave its root or clash with its bookkeeping', async () => {
    for (const [key, file] of [
      ['../escape', 'model.json'],
      ['models/.manifest.json', 'x'],
      ['models//m', 'model.json'],
      ['models/m', '.manifest.json'],
      ['models/m', 'a/../../b'],
    ]) {
      await expect(store.put(key, { [file]: 'x' }), `${key} ${file}`).rejects.toThrow(/unsafe artifact path segment/);
      await expect(store.get(key, file), `${key} ${file}`).rejects.toThrow(/unsafe artifact path segment/);
    }
  });

  it('answers a readiness ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('S3 store', () => {
  it('keeps every object under its prefix, and leaves nothing behind when a key is removed', async () => {
    const { store, bucket } = await s3Store('team-a/trainyard');
    await store.put('models/m', { 'model.json': '{}', 'weights.bin': randomBytes(10) });
    await store.put('models/m', { 'model.json': '{"v":2}', 'weights.bin': randomBytes(10) });
    const keys = await s3.keys(bucket);
    expect(keys.length).toBeGreaterThanOrEqual(5); // one manifest, two generations of two files
    expect(keys.every((k) => k.startsWith('team-a/trainyard/models/m/'))).toBe(true);
    await store.remove('models/m');
    expect(await s3.keys(bucket)).toEqual([]);
  });

  it('uploads a file over 64 MiB in parts and reads it back whole', async () => {
    const { store, bucket } = await s3Store();
    const big = Buffer.alloc(65 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    await store.put('datasets/big', { 'x.bin': big, 'y.bin': 'labels' });
    expect((await store.get('datasets/big', 'x.bin'))!.equals(big)).toBe(true);
    expect((await store.getRange('datasets/big', 'x.bin', 40 * 1024 * 1024, 8))!.equals(big.subarray(40 * 1024 * 1024, 40 * 1024 * 1024 + 8))).toBe(true);
    expect((await s3.keys(bucket)).filter((k) => k.endsWith('/x.bin'))).toHaveLength(1);
  });

  it('a missing bucket is an outage of the object store that says so, on ping and on every use', async () => {
    const store = artifactStoreFor(loadConfig({}, s3.storageConfig(`gone-${randomBytes(4).toString('hex')}`)));
    const ping = await store.ping().catch((err: Error) => err);
    expect(ping).toBeInstanceOf(Error);
    expect((ping as Error).message).toMatch(/the bucket does not exist/);
    expect(dependencyOutage(ping)).toBe('object store');
    const read = await store.get('models/m', 'model.json').catch((err: Error) => err);
    expect(dependencyOutage(read)).toBe('object store');
    expect((read as Error).message).toMatch(/NoSuchBucket/);
    const write = await store.put('models/m', { 'model.json': '{}' }).catch((err: Error) => err);
    expect(dependencyOutage(write)).toBe('object store');
  });

  it('a server that does not answer is an outage naming the store, never a missing file; the store works again when it is back', async () => {
    const own = await startS3Server();
    try {
      const bucket = await own.createBucket();
      const store = artifactStoreFor(loadConfig({}, own.storageConfig(bucket)));
      await store.put('models/m', { 'model.json': '{}' });
      await own.stop();
      for (const attempt of [() => store.get('models/m', 'model.json'), () => store.open('models/m', 'model.json'), () => store.ping(), () => store.remove('models/m')]) {
        const err = await attempt().then(
          () => null,
          (e: Error) => e,
        );
        expect(err).toBeInstanceOf(Error);
        expect(dependencyOutage(err), String(err)).toBe('object store');
        expect((err as Error).message).toContain(`s3://${bucket}/trainyard/ at ${own.endpoint}`);
        expect((err as Error).message).toMatch(/ECONNREFUSED/);
      }
      await own.restart();
      expect((await store.get('models/m', 'model.json'))!.toString()).toBe('{}');
    } finally {
      await own.close();
    }
  });
});
