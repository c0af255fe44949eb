import type { ChunkReader, ElementType } from './byte-source.js';
import { DatasetFormatError } from './dataset-format.error.js';
import { fmt } from './format.js';

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_HEADER_BYTES = 1 << 20;

/** Reads magic, version and the header dict; leaves `reader` at the first data byte. */
export async function readNpyHeader(reader: ChunkReader, field: string, subject: string): Promise<NpyHeader> {
  const fail = (message: string) => new DatasetFormatError(field, `${subject} ${message}`);
  const preamble = await reader.read(8);
  if (preamble[0] === 0x50 && preamble[1] === 0x4b) {
    throw fail('is a zip archive (.npz?); save each array with np.save as its own .npy file');
  }
  if (preamble.length < 8 || MAGIC.some((b, i) => preamble[i] !== b)) throw fail('is not a .npy file');
  const [major, minor] = [preamble[6], preamble[7]];
  if (major < 1 || major > 3) throw fail(`has .npy format version ${major}.${minor}; versions 1.0, 2.0 and 3.0 are supported`);
  const lengthBytes = await reader.read(major === 1 ? 2 : 4);
  if (lengthBytes.length < (major === 1 ? 2 : 4)) throw fail('is truncated: its header is incomplete');
  const view = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, lengthBytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(0, true) : view.getUint32(0, true);
  if (headerLength > MAX_HEADER_BYTES) throw fail(`has a ${fmt(headerLength)}-byte header; at most ${fmt(MAX_HEADER_BYTES)} bytes are supported`);
  const headerBytes = await reader.read(headerLength);
  if (headerBytes.length < headerLength) throw fail('is truncated: its header is incomplete');
  // Before 3.0 the header is latin-1; 3.0 allowed UTF-8 for structured field names.
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);

  let dict: unknown;
  try {
    dict = new PyLiteral(text).parseWhole();
  } catch (err) {
    throw fail(`has an unreadable header (${(err as Error).message}): ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) throw fail('has a header that is not a dict');
  const { descr, fortran_order: fortranOrder, shape } = dict as Record<string, unknown>;
  if (Array.isArray(descr)) throw fail('holds a structured array (named fields); save a plain numeric array');
  if (typeof descr !== 'string') throw fail("header has no 'descr' string");
  if (typeof fortranOrder !== 'boolean') throw fail("header has no 'fortran_order' True/False");
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw fail("header has no 'shape' tuple of sizes");
  }
  return { descr, fortranOrder, shape: shape as number[] };
}

/** numpy's own spelling of a shape: `(100, 28, 28)`, `(100,)`, `()`. */
export function pyShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

export interface NpyDtype {
  /** numpy's name: `float32`, `complex64`, `str`... */
  name: string;
  /** Set for fixed-size numbers this reader can decode (bool reads as uint8). */
  element?: ElementType;
  /** Fixed-width text: `<U` is UTF-32 code units, `|S` bytes. */
  text?: { encoding: 'utf-32' | 'bytes'; littleEndian: boolean; itemSize: number };
}

/** Interprets a numpy type string such as `<f4`, `>i8`, `|u1`, `<U7`, `<M8[ns]`. */
export function parseDescr(descr: string): NpyDtype {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)(.*)$/.exec(descr);
  if (!m) return { name: descr };
  const [, order, kind, sizeText] = m;
  const size = Number(sizeText || '0');
  // '=' is native order; numpy writes '<' or '>' in files, so '=' is treated as little-endian like every machine it ships for.
  const littleEndian = order !== '>';
  switch (kind) {
    case 'b':
      return { name: 'bool', element: { kind: 'uint', size: 1, littleEndian } };
    case 'i':
    case 'u':
    case 'f': {
      const name = `${{ i: 'int', u: 'uint', f: 'float' }[kind]}${size * 8}`;
      const known = kind === 'f' ? [2, 4, 8] : [1, 2, 4, 8];
      if (!known.includes(size)) return { name };
      return { name, element: { kind: kind === 'i' ? 'int' : kind === 'u' ? 'uint' : 'float', size: size as 1 | 2 | 4 | 8, littleEndian } };
    }
    case 'c':
      return { name: `complex${size * 8}` };
    case 'U':
      return { name: 'str', text: { encoding: 'utf-32', littleEndian, itemSize: size * 4 } };
    case 'S':
    case 'a':
      return { name: 'bytes', text: { encoding: 'bytes', littleEndian, itemSize: size } };
    case 'O':
      return { name: 'object' };
    case 'M':
      return { name: 'datetime64' };
    case 'm':
      return { name: 'timedelta64' };
    case 'V':
      return { name: 'void' };
    default:
      return { name: descr };
  }
}

/**
 * The subset of Python literal syntax numpy writes in headers: dicts, tuples,
 * lists, quoted strings, ints, True/False/None. Enough to read any header
 * without ever evaluating code.
 */
class PyLiteral {
  private i = 0;

  constructor(private readonly s: string) {}

  parseWhole(): unknown {
    const value = this.value();
    this.skipSpace();
    if (this.i !== this.s.length) throw new Error(`unexpected ${JSON.stringify(this.s[this.i])} at ${this.i}`);
    return value;
  }

  private skipSpace(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private value(): unknown {
    this.skipSpace();
    const c = this.s[this.i];
    if (c === '{') return this.dict();
    if (c === '(') return this.sequence(')');
    if (c === '[') return this.sequence(']');
    if (c === "'" || c === '"') return this.string();
    const word = /^(?:-?\d+L?|True|False|None)/.exec(this.s.slice(this.i));
    if (!word) throw new Error(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)} at ${this.i}`);
    this.i += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace('L', ''));
  }

  private expect(c: string): void {
    this.skipSpace();
    if (this.s[this.i] !== c) throw new Error(`expected ${JSON.stringify(c)} at ${this.i}`);
    this.i++;
  }

  /** True (and consumed) when the next token is `close`; otherwise requires a comma unless `first`. */
  private closes(close: string, first: boolean): boolean {
    this.skipSpace();
    if (this.s[this.i] === close) {
      this.i++;
      return true;
    }
    if (!first) {
      this.expect(',');
      this.skipSpace();
      if (this.s[this.i] === close) {
        this.i++;
        return true;
      }
    }
    return false;
  }

  private dict(): Record<string, unknown> {
    this.expect('{');
    const out: Record<string, unknown> = {};
    for (let first = true; !this.closes('}', first); first = false) {
      const key = this.value();
      if (typeof key !== 'string') throw new Error('a dict key is not a string');
      this.expect(':');
      out[key] = this.value();
    }
    return out;
  }

  private sequence(close: string): unknown[] {
    this.i++;
    const out: unknown[] = [];
    for (let first = true; !this.closes(close, first); first = false) out.push(this.value());
    return out;
  }

  private string(): string {
    const quote = this.s[this.i++];
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== quote) {
      if (this.s[this.i] === '\\') this.i++;
      out += this.s[this.i++];
    }
    if (this.i >= this.s.length) throw new Error('a string is not closed');
    this.i++;
    return out;
  }
}
