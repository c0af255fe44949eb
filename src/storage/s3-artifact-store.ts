import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { ObjectStoreUnavailableError } from '../infra/object-store-unavailable.error.js';
import type { ArtifactFile, ArtifactStore, S3StoreSettings } from './artifact-store.js';
import { assertSafe, type ByteRange } from './artifact-keys.js';

/**
 * Objects of a key: its files under `<key>/.g/<generation>/`, and
 * `<key>/.manifest.json` naming the generation that counts with its files'
 * sizes. A write uploads a new generation, then publishes it by replacing
 * the manifest (one small object, written whole or not at all), so a reader
 * sees all files of one write or none, never half of one or a mix of two.
 * Generations replaced by a later write stay until the key is removed (a
 * reader may still be streaming one; only retried jobs rewrite a key).
 */
const MANIFEST = '.manifest.json';
const GENERATIONS = '.g';

const ManifestSchema = Type.Object({
  generation: Type.String({ pattern: '^[0-9a-f-]{36}$' }),
  files: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
});
type Manifest = Static<typeof ManifestSchema>;

/** Files from this size go up in parts: each part is retried alone, and none is over S3's 5 GiB limit of one PUT. */
const MULTIPART_FROM = 64 * 1024 * 1024;
const PART_SIZE = 16 * 1024 * 1024;
const PARTS_AT_ONCE = 4;
/** Most keys one DeleteObjects request takes. */
const DELETE_BATCH = 1000;

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function isNoSuchKey(err: unknown): boolean {
  return (err as SdkError | null)?.name === 'NoSuchKey';
}

/** A response body read into one buffer of its announced length (no copy of the whole at the end). */
async function collect(body: Readable, length: number | undefined): Promise<Buffer> {
  if (length === undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    if (at + bytes.length > length) throw new Error(`the object store sent more than the ${length} bytes it announced`);
    bytes.copy(out, at);
    at += bytes.length;
  }
  if (at !== length) throw new Error(`the object store sent ${at} of the ${length} bytes it announced`);
  return out;
}

export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly where: string;

  constructor(settings: S3StoreSettings) {
    this.bucket = settings.bucket;
    this.prefix = settings.prefix;
    // The endpoint's origin only: a URL may carry credentials.
    this.where = `s3://${settings.bucket}/${settings.prefix}${settings.endpoint ? ` at ${new URL(settings.endpoint).origin}` : ''}`;
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      credentials: settings.credentials,
      // Checksums only where S3 requires them: S3-compatible stores differ in which of the newer ones they know.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      // An endpoint that does not answer must fail a request in seconds, not hang it.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    });
  }

  describe(): string {
    return this.where;
  }

  private manifestKey(key: string): string {
    return `${this.prefix}${key}/${MANIFEST}`;
  }

  private fileKey(key: string, generation: string, file: string): string {
    return `${this.prefix}${key}/${GENERATIONS}/${generation}/${file}`;
  }

  /** Any failure but "no such file" means the store cannot serve us now: say which store, doing what, and why. */
  private failure(action: string, err: unknown): ObjectStoreUnavailableError {
    if (err instanceof ObjectStoreUnavailableError) return err;
    const e = (err ?? {}) as SdkError;
    const status = e.$metadata?.httpStatusCode;
    const what = [e.name, e.code && e.code !== e.name ? e.code : undefined, status ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
    return new ObjectStoreUnavailableError(`object store ${this.where}: ${action} failed${what ? ` (${what})` : ''}: ${e.message ?? String(err)}`, { cause: err });
  }

  private async attempt<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw this.failure(action, err);
    }
  }

  /** An object's bytes (or a range of them), null if there is no such object. */
  private async fetch(objectKey: string, range?: ByteRange): Promise<Buffer | null> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      return await collect(res.Body as Readable, res.ContentLength);
    } catch (err) {
      if (isNoSuchKey(err)) return null;
      throw this.failure(`reading ${objectKey}`, err);
    }
  }

  private async manifest(key: string): Promise<Manifest | null> {
    // S3 replaces an object atomically, but some S3-compatible servers (s3rver) let a read
    // overlap a write and return part of the new manifest: read again before calling it broken.
    for (let attempt = 1; ; attempt++) {
      const body = await this.fetch(this.manifestKey(key));
      if (!body) return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        if (attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
          continue;
        }
        throw new Error(`${this.manifestKey(key)} in ${this.where} is not valid JSON: ${(err as Error).message}`);
      }
      if (!Value.Check(ManifestSchema, parsed)) throw new Error(`${this.manifestKey(key)} in ${this.where} is not a manifest this service wrote`);
      return parsed;
    }
  }

  /**
   * Reads `file` of the generation the manifest names. If that generation
   * is gone by the time it is read (the key was rewritten and removed in
   * between), the manifest is read once more.
   */
  private async readPublished(key: string, file: string, read: (objectKey: string, size: number) => Promise<Buffer | null>): Promise<Buffer | null> {
    for (let pass = 0; pass < 2; pass++) {
      const manifest = await this.manifest(key);
      const size = manifest?.files[file];
      if (!manifest || size === undefined) return null;
      const bytes = await read(this.fileKey(key, manifest.generation, file), size);
      if (bytes) return bytes;
    }
    return null;
  }

  async put(key: string, files: Record<string, Uint8Array | string>): Promise<number> {
    assertSafe(key, ...Object.keys(files));
    const generation = randomUUID();
    const sizes: Record<string, number> = {};
    const uploaded: string[] = [];
    try {
      for (const [name, content] of Object.entries(files)) {
        const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
        const objectKey = this.fileKey(key, generation, name);
        uploaded.push(objectKey);
        await this.upload(objectKey, body);
        sizes[name] = body.byteLength;
      }
    } catch (err) {
      // Nothing names this generation yet: drop what did go up.
      await this.deleteObjects(uploaded).catch(() => undefined);
      throw this.failure(`writing ${key}`, err);
    }
    const manifest: Manifest = { generation, files: sizes };
    await this.attempt(`publishing ${key}`, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.manifestKey(key), Body: JSON.stringify(manifest), ContentType: 'application/json' })),
    );
    return Object.values(sizes).reduce((a, b) => a + b, 0);
  }

  private async upload(objectKey: string, body: Uint8Array): Promise<void> {
    if (body.byteLength < MULTIPART_FROM) {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: body, ContentLength: body.byteLength }));
      return;
    }
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey }));
    try {
      const count = Math.ceil(body.byteLength / PART_SIZE);
      const etags: string[] = new Array(count);
      let next = 0;
      const uploader = async () => {
        while (next < count) {
          const index = next++;
          const part = body.subarray(index * PART_SIZE, Math.min((index + 1) * PART_SIZE, body.byteLength));
          const res = await this.client.send(
            new UploadPartCommand({ Bucket: this.bucket, Key: objectKey, UploadId, PartNumber: index + 1, Body: part, ContentLength: part.byteLength }),
          );
          etags[index] = res.ETag ?? '';
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARTS_AT_ONCE, count) }, uploader));
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: objectKey,
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string, file: string): Promise<Buffer | null> {
    assertSafe(key, file);
    return this.readPublished(key, file, (objectKey, size) => (size === 0 ? Promise.resolve(Buffer.alloc(0)) : this.fetch(objectKey)));
  }

  async getRange(key: string, file: string, start: number, length: number): Promise<Buffer | null> {
    assertSafe(key, file);
    return this.readPublished(key, file, (objectKey, size) => {
      const end = Math.min(start + length, size) - 1;
      return end < start ? Promise.resolve(Buffer.alloc(0)) : this.fetch(objectKey, { start, end });
    });
  }

  async open(key: string, file: string): Promise<ArtifactFile | null> {
    assertSafe(key, file);
    const manifest = await this.manifest(key);
    const size = manifest?.files[file];
    if (!manifest || size === undefined) return null;
    const objectKey = this.fileKey(key, manifest.generation, file);
    return {
      size,
      read: async (range?: ByteRange): Promise<Readable> => {
        if (size === 0 || (range && range.end < range.start)) return Readable.from([]);
        const res = await this.attempt(`reading ${objectKey}`, () =>
          this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey, Range: range ? `bytes=${range.start}-${range.end}` : undefined })),
        );
        return res.Body as Readable;
      },
    };
  }

  async remove(key: string): Promise<void> {
    assertSafe(key);
    // Unpublished first: from here on readers find nothing, whatever the deletes below leave behind.
    await this.attempt(`removing ${key}`, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.manifestKey(key) })));
    const below = `${this.prefix}${key}/`;
    let token: string | undefined;
    do {
      const page = await this.attempt(`listing ${below}`, () => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: below, ContinuationToken: token })));
      await this.deleteObjects((page.Contents ?? []).map((o) => o.Key).filter((k): k is string => k !== undefined));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async deleteObjects(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const res = await this.attempt(`deleting ${batch.length} object(s)`, () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      const failed = res.Errors ?? [];
      if (failed.length > 0) throw this.failure(`deleting ${failed[0].Key}`, { name: failed[0].Code, message: failed[0].Message });
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      // HEAD answers carry no error body: say what a bare 404 or 403 means here.
      const status = (err as SdkError).$metadata?.httpStatusCode;
      const meaning = status === 404 ? 'the bucket does not exist' : status === 403 ? 'access to the bucket is denied' : undefined;
      throw meaning ? new ObjectStoreUnavailableError(`object store ${this.where}: ${meaning} (HTTP ${status})`, { cause: err }) : this.failure('reaching the bucket', err);
    }
  }
}
