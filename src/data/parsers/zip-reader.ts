import { open, type FileHandle } from 'node:fs/promises';
import { inflateSync } from 'fflate';
import { DatasetFormatError } from './dataset-format.error.js';
import { fmt } from './format.js';

export interface ZipEntry {
  /** Path inside the archive, `/`-separated, NFC-normalised. */
  name: string;
  isDirectory: boolean;
  method: number;
  encrypted: boolean;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;
const MAX_CENTRAL_DIRECTORY = 256 << 20;

const METHOD_NAMES: Record<number, string> = { 9: 'Deflate64', 12: 'bzip2', 14: 'LZMA', 93: 'Zstandard', 95: 'XZ', 98: 'PPMd' };

/**
 * Random-access reader over the central directory, the archive's own index:
 * names are known before any data is read, and entries are read one at a
 * time, so memory holds one compressed and one decompressed entry at most.
 * (fflate's streaming `Unzip` reads local headers in order instead, which
 * cannot see the whole folder layout up front.)
 */
export class ZipReader {
  private constructor(
    private readonly handle: FileHandle,
    private readonly field: string,
    readonly entries: ZipEntry[],
  ) {}

  static async open(path: string, field: string): Promise<ZipReader> {
    const handle = await open(path, 'r');
    try {
      return new ZipReader(handle, field, await readDirectory(handle, field));
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * The entry's bytes, checked against its CRC. Refuses entries larger than
   * `maxBytes` before reading them, so a zip bomb costs nothing.
   */
  async read(entry: ZipEntry, maxBytes: number): Promise<Uint8Array> {
    const fail = (why: string) => new DatasetFormatError(this.field, `${entry.name} ${why}`);
    if (entry.encrypted || entry.method === 99) throw fail('is encrypted; upload an archive without a password');
    if (entry.method !== 0 && entry.method !== 8) {
      const name = METHOD_NAMES[entry.method] ?? 'unknown';
      throw fail(`is compressed with method ${entry.method} (${name}); only stored and deflate entries are supported`);
    }
    const largest = Math.max(entry.size, entry.compressedSize);
    if (largest > maxBytes) throw fail(`is ${fmt(largest)} bytes; at most ${fmt(maxBytes)} are allowed per file`);
    const local = await readAt(this.handle, entry.localHeaderOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw fail('cannot be decoded: the archive is damaged (no local header)');
    const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const stored = await readAt(this.handle, start, entry.compressedSize);
    if (stored.length < entry.compressedSize) throw fail('cannot be decoded: the archive is truncated');
    let data: Uint8Array;
    if (entry.method === 0) {
      data = stored;
    } else {
      try {
        // One spare byte: an entry that inflates past its declared size is caught without inflating all of it.
        data = inflateSync(stored, { out: new Uint8Array(entry.size + 1) });
      } catch (err) {
        throw fail(`cannot be decoded: ${(err as Error).message}`);
      }
    }
    if (data.length !== entry.size || crc32(data) !== entry.crc32) {
      throw fail('cannot be decoded: its data does not match its checksum');
    }
    return data;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

async function readDirectory(handle: FileHandle, field: string): Promise<ZipEntry[]> {
  const notZip = () => new DatasetFormatError(field, 'the file is not a zip archive (or it is truncated)');
  const damaged = (why: string) => new DatasetFormatError(field, `the archive is damaged: ${why}`);
  const fileSize = (await handle.stat()).size;
  const tailLength = Math.min(fileSize, 22 + MAX_COMMENT);
  const tail = await readAt(handle, fileSize - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw notZip();
  const eocdOffset = fileSize - tailLength + at;
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) {
    throw new DatasetFormatError(field, 'the archive is split into several parts; upload it as a single .zip file');
  }
  let count = tail.readUInt16LE(at + 10);
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: more than 65,535 entries (a large image dataset) or more than 4 GiB.
    const locator = await readAt(handle, eocdOffset - 20, 20);
    if (locator.length < 20 || locator.readUInt32LE(0) !== EOCD64_LOCATOR) throw damaged('the ZIP64 locator is missing');
    const record = await readAt(handle, Number(locator.readBigUInt64LE(8)), 56);
    if (record.length < 56 || record.readUInt32LE(0) !== EOCD64) throw damaged('the ZIP64 directory record is missing');
    count = Number(record.readBigUInt64LE(32));
    cdSize = Number(record.readBigUInt64LE(40));
    cdOffset = Number(record.readBigUInt64LE(48));
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY) throw damaged(`its directory is ${fmt(cdSize)} bytes`);
  if (cdOffset + cdSize > eocdOffset) throw damaged('its directory lies outside the file');
  const cd = await readAt(handle, cdOffset, cdSize);

  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw damaged(`directory entry ${i + 1} is unreadable`);
    const flags = cd.readUInt16LE(p + 8);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLength);
    const extra = cd.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
    for (let e = 0; e + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(e);
      const length = extra.readUInt16LE(e + 2);
      if (id === 0x0001) {
        // ZIP64 extra field: 64-bit values, present only for the fields saturated at 0xffffffff, in this order.
        let q = e + 4;
        const next = () => {
          const v = q + 8 <= e + 4 + length ? Number(extra.readBigUInt64LE(q)) : NaN;
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      e += 4 + length;
    }
    // Still saturated (no ZIP64 field) or NaN (a field too short to hold the value).
    if ([size, compressedSize, localHeaderOffset].some((v) => v === 0xffffffff || Number.isNaN(v))) {
      throw damaged(`directory entry ${i + 1} has a missing or short ZIP64 field`);
    }
    const name = decodeName(nameBytes, (flags & 0x800) !== 0)
      .replace(/\\/g, '/')
      .normalize('NFC');
    entries.push({
      name,
      isDirectory: name.endsWith('/'),
      method: cd.readUInt16LE(p + 10),
      encrypted: (flags & 1) !== 0,
      crc32: cd.readUInt32LE(p + 16),
      compressedSize,
      size,
      localHeaderOffset,
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Names are UTF-8 when flagged, and in practice also when not (macOS and most
 * tools write UTF-8 without the flag); bytes that are not UTF-8 fall back to
 * latin-1 so a folder name still comes out stable, if not pretty.
 */
function decodeName(bytes: Uint8Array, flaggedUtf8: boolean): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return flaggedUtf8 ? new TextDecoder('utf-8').decode(bytes) : latin1.decode(bytes);
  }
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
