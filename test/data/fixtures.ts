import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'fflate';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { expect } from 'vitest';
import { loadMnist } from '../../src/data/mnist.dataset.js';
import { DatasetFormatError } from '../../src/data/parsers/dataset-format.error.js';

/** A private temp dir per test file; `write` returns the path of the written file. */
export async function createScratch(): Promise<{ dir: string; write(name: string, data: Uint8Array | string): Promise<string>; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trainyard-parsers-'));
  return {
    dir,
    async write(name, data) {
      const file = path.join(dir, name);
      await writeFile(file, data);
      return file;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The first `limit` real MNIST digits as the uint8 pixels of the original IDX files. */
export async function mnistBytes(limit: number): Promise<{ x: Uint8Array; y: Uint8Array }> {
  allDigits ??= loadMnist().then((d) => {
    const x = new Uint8Array(d.x.length);
    for (let i = 0; i < x.length; i++) x[i] = Math.round(d.x[i] * 255);
    return { x, y: Uint8Array.from(d.y) };
  });
  const { x, y } = await allDigits;
  return { x: x.subarray(0, limit * 784), y: y.subarray(0, limit) };
}
let allDigits: Promise<{ x: Uint8Array; y: Uint8Array }> | undefined;

/** Byte-wise equality; `toEqual` on megabyte typed arrays takes seconds. */
export function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export type NumericKind = 'uint' | 'int' | 'float';

/** Packs numbers as `kind`/`size` elements, the byte order both IDX and NPY need. */
export function packValues(values: ArrayLike<number>, kind: NumericKind, size: 1 | 2 | 4 | 8, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const o = i * size;
    if (kind === 'float') {
      if (size === 4) view.setFloat32(o, v, littleEndian);
      else if (size === 8) view.setFloat64(o, v, littleEndian);
      else throw new Error('float16 is not packed by this helper');
    } else if (size === 1) {
      if (kind === 'int') view.setInt8(o, v);
      else view.setUint8(o, v);
    } else if (size === 2) {
      if (kind === 'int') view.setInt16(o, v, littleEndian);
      else view.setUint16(o, v, littleEndian);
    } else if (size === 4) {
      if (kind === 'int') view.setInt32(o, v, littleEndian);
      else view.setUint32(o, v, littleEndian);
    } else {
      if (kind === 'int') view.setBigInt64(o, BigInt(v), littleEndian);
      else view.setBigUint64(o, BigInt(v), littleEndian);
    }
  }
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An IDX file: magic, big-endian dims, big-endian data. */
export function idxFile(typeCode: number, dims: number[], body: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = typeCode;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return concatBytes(header, body);
}

export const gzip = (data: Uint8Array): Uint8Array => gzipSync(data);

/** Asserts the exact message, field and code of a DatasetFormatError. */
export async function expectFormatError(promise: Promise<unknown>, field: string, message: string): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected DatasetFormatError: ${message}`).toBeInstanceOf(DatasetFormatError);
  const e = err as DatasetFormatError;
  expect(e.message).toBe(message);
  expect(e.field).toBe(field);
  expect(e.code).toBe('invalid-dataset');
  expect(e.name).toBe('DatasetFormatError');
}

/**
 * A .npy file as `np.save` writes it: magic, version, little-endian header
 * length, a Python dict literal padded with spaces to a multiple of 64 bytes.
 */
export function npyFile(descr: string, shape: number[], body: Uint8Array, { version = 1, fortranOrder = false }: { version?: 1 | 2 | 3; fortranOrder?: boolean } = {}): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return npyWithHeader(`{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shapeText}, }`, body, version);
}

/** Same framing around any header text, for broken headers. */
export function npyWithHeader(dict: string, body: Uint8Array, version: 1 | 2 | 3 = 1): Uint8Array {
  const lengthBytes = version === 1 ? 2 : 4;
  const unpadded = 6 + 2 + lengthBytes + dict.length + 1;
  const header = `${dict + ' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const pre = new Uint8Array(8 + lengthBytes);
  pre.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(pre.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  return concatBytes(pre, new TextEncoder().encode(header), body);
}

/** numpy `<U{width}`: UTF-32LE code points, NUL-padded. */
export function utf32Strings(values: string[], width: number): Uint8Array {
  const out = new Uint8Array(values.length * width * 4);
  const view = new DataView(out.buffer);
  values.forEach((s, i) => [...s].forEach((ch, j) => view.setUint32((i * width + j) * 4, ch.codePointAt(0)!, true)));
  return out;
}

/** A PNG of `rgba` (8-bit RGBA) stored as grey (0), RGB (2) or RGBA (6). */
export function pngFile(width: number, height: number, rgba: Uint8Array, colorType: 0 | 2 | 6 = 6): Uint8Array {
  const png = new pngjs.PNG({ width, height });
  png.data = Buffer.from(rgba);
  return pngjs.PNG.sync.write(png, { colorType });
}

export function jpegFile(width: number, height: number, rgba: Uint8Array, quality = 95): Uint8Array {
  return jpeg.encode({ width, height, data: rgba }, quality).data;
}

/** Grey pixels as RGBA. */
export function greyToRgba(grey: Uint8Array): Uint8Array {
  const out = new Uint8Array(grey.length * 4);
  grey.forEach((v, i) => out.set([v, v, v, 255], i * 4));
  return out;
}

export function solidRgba(width: number, height: number, [r, g, b, a = 255]: number[]): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < out.length; i += 4) out.set([r, g, b, a], i);
  return out;
}

/** Offset of the central directory entry for `name` in a zip made by fflate. */
export function centralEntryOffset(zip: Uint8Array, name: string): number {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = zip.length - 22;
  let p = view.getUint32(eocd + 16, true);
  for (let i = 0; i < view.getUint16(eocd + 10, true); i++) {
    const nameLength = view.getUint16(p + 28, true);
    if (new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLength)) === name) return p;
    p += 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  throw new Error(`${name} is not in the zip`);
}

/**
 * Rewrites a small zip (no comment, no extra fields) the way ZIP64 writers
 * lay out huge archives: saturated 32-bit fields in every directory entry
 * with the real values in a ZIP64 extra field, and a ZIP64 end record.
 */
export function toZip64(zip: Uint8Array): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = zip.length - 22;
  const count = view.getUint16(eocd + 10, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  const parts: Uint8Array[] = [zip.subarray(0, cdOffset)];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    const nameLength = view.getUint16(p + 28, true);
    const fixed = zip.slice(p, p + 46 + nameLength);
    const fv = new DataView(fixed.buffer);
    const extra = new Uint8Array(28);
    const ev = new DataView(extra.buffer);
    ev.setUint16(0, 0x0001, true);
    ev.setUint16(2, 24, true);
    ev.setBigUint64(4, BigInt(fv.getUint32(24, true)), true);
    ev.setBigUint64(12, BigInt(fv.getUint32(20, true)), true);
    ev.setBigUint64(20, BigInt(fv.getUint32(42, true)), true);
    fv.setUint32(20, 0xffffffff, true);
    fv.setUint32(24, 0xffffffff, true);
    fv.setUint32(42, 0xffffffff, true);
    fv.setUint16(30, extra.length, true);
    parts.push(fixed, extra);
    p += 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  const cdSize = parts.slice(1).reduce((n, x) => n + x.length, 0);
  const eocd64Offset = cdOffset + cdSize;
  const record = new Uint8Array(56);
  const rv = new DataView(record.buffer);
  rv.setUint32(0, 0x06064b50, true);
  rv.setBigUint64(4, 44n, true);
  rv.setUint16(12, 45, true);
  rv.setUint16(14, 45, true);
  rv.setBigUint64(24, BigInt(count), true);
  rv.setBigUint64(32, BigInt(count), true);
  rv.setBigUint64(40, BigInt(cdSize), true);
  rv.setBigUint64(48, BigInt(cdOffset), true);
  const locator = new Uint8Array(20);
  const lv = new DataView(locator.buffer);
  lv.setUint32(0, 0x07064b50, true);
  lv.setBigUint64(8, BigInt(eocd64Offset), true);
  lv.setUint32(16, 1, true);
  const end = zip.slice(eocd, eocd + 22);
  const endView = new DataView(end.buffer);
  endView.setUint16(8, 0xffff, true);
  endView.setUint16(10, 0xffff, true);
  endView.setUint32(12, 0xffffffff, true);
  endView.setUint32(16, 0xffffffff, true);
  return concatBytes(...parts, record, locator, end);
}
