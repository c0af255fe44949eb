import { openByteSource, OVERRUN_LIMIT, readElements, type ByteSource, type ElementType } from './byte-source.js';
import { DatasetFormatError } from './dataset-format.error.js';
import {
  assembleDataset,
  assertExampleLimit,
  assertFeatureLimit,
  assertFinite,
  assertValueLimit,
  classesFromIntegers,
  product,
  resolveLimits,
  type ParsedDataset,
  type ParseLimits,
} from './dataset.js';
import { fmt, shapeText } from './format.js';

export interface IdxInput extends ParseLimits {
  /** Path of the images file (IDX, raw or gzipped): `[n, h, w]`, `[n, h, w, c]` or `[n, features]`. */
  images: string;
  /** Path of the labels file (IDX, raw or gzipped): `[n]` whole numbers. */
  labels: string;
}

/** IDX stores every element type big-endian. */
const IDX_TYPES: Record<number, ElementType & { name: string }> = {
  8: { name: 'uint8', kind: 'uint', size: 1, littleEndian: false },
  9: { name: 'int8', kind: 'int', size: 1, littleEndian: false },
  11: { name: 'int16', kind: 'int', size: 2, littleEndian: false },
  12: { name: 'int32', kind: 'int', size: 4, littleEndian: false },
  13: { name: 'float32', kind: 'float', size: 4, littleEndian: false },
  14: { name: 'float64', kind: 'float', size: 8, littleEndian: false },
};

interface IdxFile {
  field: 'images' | 'labels';
  subject: string;
  source: ByteSource;
  type: ElementType & { name: string };
  dims: number[];
  headerBytes: number;
}

/** Reads an MNIST-style pair of IDX files (as published by LeCun et al., raw or `.gz`). */
export async function parseIdx(input: IdxInput): Promise<ParsedDataset> {
  const limits = resolveLimits(input);
  const images = await openIdx(input.images, 'images');
  try {
    const labels = await openIdx(input.labels, 'labels');
    try {
      const [n, ...exampleDims] = images.dims;
      if (images.dims.length < 2 || images.dims.length > 4) {
        throw new DatasetFormatError('images', `images file must have 2 to 4 dimensions (images, height, width, channels), got ${images.dims.length}`);
      }
      if (labels.dims.length !== 1) {
        throw new DatasetFormatError('labels', `labels file must have 1 dimension, got ${labels.dims.length}`);
      }
      if (labels.type.kind === 'float') {
        throw new DatasetFormatError('labels', `labels file must hold whole numbers, got ${labels.type.name} values`);
      }
      if (images.dims.includes(0)) {
        throw new DatasetFormatError('images', `images file holds no data (shape ${shapeText(images.dims)})`);
      }
      if (labels.dims[0] !== n) {
        throw new DatasetFormatError('labels', `labels file has ${fmt(labels.dims[0])} items, images file ${fmt(n)}`);
      }
      const inputShape = exampleDims.length === 2 ? [...exampleDims, 1] : exampleDims;
      assertExampleLimit('images', 'images file', n, limits);
      assertFeatureLimit('images', 'images file', inputShape, limits);
      assertValueLimit('images', n, inputShape, limits);
      assertRawSize(labels);
      assertRawSize(images);

      const rawLabels = new Float64Array(n);
      await readBody(labels, rawLabels);
      const classes = classesFromIntegers('labels', 'labels file', rawLabels, limits);

      const valuesPerExample = product(inputShape);
      if (images.type.name === 'uint8') {
        const x = new Uint8Array(n * valuesPerExample);
        await readBody(images, x);
        return assembleDataset({ dtype: 'uint8', x }, classes, inputShape);
      }
      const x = new Float32Array(n * valuesPerExample);
      await readBody(images, x);
      assertFinite('images', 'images file', x, valuesPerExample);
      return assembleDataset({ dtype: 'float32', x }, classes, inputShape);
    } finally {
      await labels.source.reader.close();
    }
  } finally {
    await images.source.reader.close();
  }
}

async function openIdx(path: string, field: 'images' | 'labels'): Promise<IdxFile> {
  const subject = `${field} file`;
  const source = await openByteSource(path, field, subject);
  try {
    const magic = await source.reader.read(4);
    if (magic.length < 4) {
      throw new DatasetFormatError(field, `${subject} is not an IDX file (it is only ${magic.length} bytes long)`);
    }
    const hex = Buffer.from(magic).toString('hex');
    if (magic[0] !== 0 || magic[1] !== 0) {
      throw new DatasetFormatError(field, `${subject} is not an IDX file (magic 0x${hex})`);
    }
    const type = IDX_TYPES[magic[2]];
    if (type === undefined) {
      throw new DatasetFormatError(
        field,
        `${subject} has unknown IDX data type 0x${hex.slice(4, 6)}; known: 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64`,
      );
    }
    const ndims = magic[3];
    const dimBytes = await source.reader.read(4 * ndims);
    if (dimBytes.length < 4 * ndims) {
      throw new DatasetFormatError(field, `${subject} is truncated: its header is incomplete`);
    }
    const view = new DataView(dimBytes.buffer, dimBytes.byteOffset, dimBytes.byteLength);
    const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 * i, false));
    return { field, subject, source, type, dims, headerBytes: 4 + 4 * ndims };
  } catch (err) {
    await source.reader.close();
    throw err;
  }
}

function bodyBytes(file: IdxFile): number {
  return product(file.dims) * file.type.size;
}

function contents(file: IdxFile): string {
  const [n, ...rest] = file.dims;
  const plural = n === 1 ? '' : 's';
  return file.field === 'images' ? `${fmt(n)} image${plural} of ${shapeText(rest)}` : `${fmt(n)} label${plural}`;
}

function sizeMismatch(file: IdxFile, actualText: string, truncated: boolean): DatasetFormatError {
  const expected = file.headerBytes + bodyBytes(file);
  const what = truncated ? 'is truncated:' : 'is longer than its header says:';
  const note = file.source.gzipped ? ' (decompressed)' : '';
  return new DatasetFormatError(file.field, `${file.subject} ${what} header says ${contents(file)} (${fmt(expected)} bytes) but the file has ${actualText}${note}`);
}

/** An uncompressed file's size is known up front: fail before reading megabytes. */
function assertRawSize(file: IdxFile): void {
  if (file.source.gzipped) return;
  const expected = file.headerBytes + bodyBytes(file);
  if (file.source.fileSize !== expected) {
    throw sizeMismatch(file, fmt(file.source.fileSize), file.source.fileSize < expected);
  }
}

async function readBody(file: IdxFile, out: Uint8Array | Float32Array | Float64Array): Promise<void> {
  const need = bodyBytes(file);
  const seen = await readElements(file.source.reader.rest(), file.type, out, need + OVERRUN_LIMIT);
  if (seen === need) return;
  const actual = seen > need + OVERRUN_LIMIT ? `more than ${fmt(file.headerBytes + seen)}` : fmt(file.headerBytes + seen);
  throw sizeMismatch(file, actual, seen < need);
}
