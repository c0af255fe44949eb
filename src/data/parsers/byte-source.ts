import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Gunzip } from 'fflate';
import { DatasetFormatError } from './dataset-format.error.js';

const RAW_CHUNK = 1 << 20;
// Deflate expands at most ~1,032:1, so a 64 KiB input chunk bounds one
// decompressed chunk to ~64 MiB even for a gzip bomb.
const GZIP_CHUNK = 1 << 16;

/**
 * How far past its declared size a gzipped file is read before counting
 * stops: enough to report an honest size, not enough for a bomb to hurt.
 */
export const OVERRUN_LIMIT = 64 << 20;

export interface ByteSource {
  gzipped: boolean;
  /** Size on disk (compressed size for gzip). */
  fileSize: number;
  reader: ChunkReader;
}

/**
 * Opens an uploaded file for streaming, gunzipping on the fly when it starts
 * with the gzip magic: uploads are named by the browser, so names prove nothing.
 */
export async function openByteSource(path: string, field: string, subject: string): Promise<ByteSource> {
  const handle = await open(path, 'r');
  let gzipped: boolean;
  let fileSize: number;
  try {
    fileSize = (await handle.stat()).size;
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    gzipped = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
  const chunks = gzipped ? gunzipChunks(path, field, subject) : rawChunks(path);
  return { gzipped, fileSize, reader: new ChunkReader(chunks) };
}

async function* rawChunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: RAW_CHUNK })) yield chunk as Buffer;
}

async function* gunzipChunks(path: string, field: string, subject: string): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  const gunzip = new Gunzip((data) => {
    if (data.length > 0) out.push(data);
  });
  const push = (chunk: Uint8Array, final: boolean) => {
    try {
      gunzip.push(chunk, final);
    } catch (err) {
      throw new DatasetFormatError(field, `${subject} is gzipped but cannot be decompressed: ${(err as Error).message}`);
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: GZIP_CHUNK })) {
    push(chunk as Buffer, false);
    while (out.length > 0) yield out.shift()!;
  }
  push(new Uint8Array(0), true);
  while (out.length > 0) yield out.shift()!;
}

/** Pulls exact byte counts for headers off a chunk stream, then hands over the rest. */
export class ChunkReader {
  private pending: Uint8Array = new Uint8Array(0);
  private done = false;
  /** Bytes handed out so far by `read` and `rest`. */
  consumed = 0;

  constructor(private readonly source: AsyncGenerator<Uint8Array>) {}

  /** Up to `n` bytes; fewer only when the data ends. */
  async read(n: number): Promise<Uint8Array> {
    while (this.pending.length < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else this.pending = concat(this.pending, next.value);
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(out.length);
    this.consumed += out.length;
    return out;
  }

  /** The remaining data, chunk by chunk. */
  async *rest(): AsyncGenerator<Uint8Array> {
    try {
      if (this.pending.length > 0) {
        const first = this.pending;
        this.pending = new Uint8Array(0);
        this.consumed += first.length;
        yield first;
      }
      while (!this.done) {
        const next = await this.source.next();
        if (next.done) {
          this.done = true;
        } else {
          this.consumed += next.value.length;
          yield next.value;
        }
      }
    } finally {
      // A consumer that stops early must not leave the file open.
      await this.close();
    }
  }

  /** Stops reading early (closes the file). */
  async close(): Promise<void> {
    this.done = true;
    await this.source.return(undefined);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A numeric element type of a binary array file. */
export interface ElementType {
  kind: 'uint' | 'int' | 'float';
  size: 1 | 2 | 4 | 8;
  littleEndian: boolean;
}

type Getter = (view: DataView, offset: number) => number;

function getterFor({ kind, size, littleEndian: le }: ElementType): Getter {
  switch (`${kind}${size}`) {
    case 'uint1':
      return (v, o) => v.getUint8(o);
    case 'int1':
      return (v, o) => v.getInt8(o);
    case 'uint2':
      return (v, o) => v.getUint16(o, le);
    case 'int2':
      return (v, o) => v.getInt16(o, le);
    case 'uint4':
      return (v, o) => v.getUint32(o, le);
    case 'int4':
      return (v, o) => v.getInt32(o, le);
    // Two 32-bit halves instead of BigInt: exact up to 2^53, and far faster.
    case 'uint8':
      return le ? (v, o) => v.getUint32(o, true) + v.getUint32(o + 4, true) * 2 ** 32 : (v, o) => v.getUint32(o + 4, false) + v.getUint32(o, false) * 2 ** 32;
    case 'int8':
      return le ? (v, o) => v.getUint32(o, true) + v.getInt32(o + 4, true) * 2 ** 32 : (v, o) => v.getUint32(o + 4, false) + v.getInt32(o, false) * 2 ** 32;
    case 'float2':
      return (v, o) => halfToNumber(v.getUint16(o, le));
    case 'float4':
      return (v, o) => v.getFloat32(o, le);
    case 'float8':
      return (v, o) => v.getFloat64(o, le);
    default:
      throw new Error(`no reader for ${kind}${size * 8}`);
  }
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes the first `out.length` elements of `chunks` into `out` and keeps
 * counting past them without storing, so the caller can tell a truncated
 * file from an over-long one. Stops counting once `stopAfter` bytes are seen
 * (bounds the work a gzip bomb can cause). Returns the bytes seen.
 */
export async function readElements(chunks: AsyncIterable<Uint8Array>, type: ElementType, out: Uint8Array | Float32Array | Float64Array, stopAfter = Infinity): Promise<number> {
  const needBytes = out.length * type.size;
  // Same layout in file and memory: copy bytes, no per-element work.
  const sameLayout =
    (type.kind === 'uint' && type.size === 1 && out instanceof Uint8Array) ||
    (type.kind === 'float' && type.size === 4 && type.littleEndian === HOST_LITTLE_ENDIAN && out instanceof Float32Array) ||
    (type.kind === 'float' && type.size === 8 && type.littleEndian === HOST_LITTLE_ENDIAN && out instanceof Float64Array);
  const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const get = getterFor(type);
  let seen = 0;
  let carry: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    const start = seen;
    seen += chunk.length;
    if (start >= needBytes) {
      if (seen > stopAfter) break;
      continue;
    }
    const useful = chunk.subarray(0, Math.min(chunk.length, needBytes - start));
    if (sameLayout) {
      outBytes.set(useful, start);
      continue;
    }
    const bytes = carry.length === 0 ? useful : concat(carry, useful);
    const whole = bytes.length - (bytes.length % type.size);
    const view = new DataView(bytes.buffer, bytes.byteOffset, whole);
    let index = (start - carry.length) / type.size;
    for (let o = 0; o < whole; o += type.size) out[index++] = get(view, o);
    carry = bytes.slice(whole);
    if (seen > stopAfter) break;
  }
  return seen;
}
