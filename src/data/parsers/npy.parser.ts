import { openByteSource, OVERRUN_LIMIT, readElements, type ByteSource, type ElementType } from './byte-source.js';
import { DatasetFormatError } from './dataset-format.error.js';
import {
  assembleDataset,
  assertExampleLimit,
  assertFeatureLimit,
  assertFinite,
  assertTwoClasses,
  assertValueLimit,
  classesFromIntegers,
  classesFromLabels,
  classIndexArray,
  product,
  resolveLimits,
  type ClassIndices,
  type ParsedDataset,
  type ParseLimits,
} from './dataset.js';
import { fmt } from './format.js';
import { parseDescr, pyShape, readNpyHeader, type NpyDtype, type NpyHeader } from './npy-header.js';

export interface NpyInput extends ParseLimits {
  /** Path of `x.npy` (optionally gzipped): shape `(n, features)`, `(n, h, w)` or `(n, h, w, c)`; float or integer. */
  x: string;
  /**
   * Path of `y.npy`: `(n,)` class indices (any integer or bool dtype, or
   * whole-number floats), `(n,)` strings, or `(n, classes)` one-hot rows.
   */
  y: string;
}

type Classes = { y: ClassIndices; numClasses: number; classNames: string[] };

interface NpyFile {
  field: 'x' | 'y';
  subject: string;
  source: ByteSource;
  header: NpyHeader;
  dtype: NpyDtype;
  /** Bytes before the data. */
  dataOffset: number;
}

const MAX_LABEL_CHARS = 256;

/** Reads a pair of arrays saved with `np.save` (format versions 1.0 to 3.0). Nothing is ever unpickled. */
export async function parseNpy(input: NpyInput): Promise<ParsedDataset> {
  const limits = resolveLimits(input);
  const xFile = await openNpy(input.x, 'x');
  try {
    const yFile = await openNpy(input.y, 'y');
    try {
      const { shape } = xFile.header;
      const xElement = xFile.dtype.element;
      if (!xElement) {
        throw new DatasetFormatError('x', `x.npy dtype ${xFile.dtype.name} is not supported; use float32, float64 or uint8`);
      }
      if (shape.length < 2) {
        throw new DatasetFormatError('x', `x.npy must have at least 2 dimensions (examples, features), got shape ${pyShape(shape)}`);
      }
      if (shape.length > 4) {
        throw new DatasetFormatError('x', `x.npy has ${shape.length} dimensions; at most 4 (examples, height, width, channels) are supported`);
      }
      if (shape.includes(0)) throw new DatasetFormatError('x', `x.npy holds no data (shape ${pyShape(shape)})`);
      const yShape = yFile.header.shape;
      if (!yFile.dtype.element && !yFile.dtype.text) {
        throw new DatasetFormatError('y', `y.npy dtype ${yFile.dtype.name} is not supported; use integer class indices, strings, or one-hot rows`);
      }
      if (yShape.length < 1 || yShape.length > 2 || (yFile.dtype.text && yShape.length !== 1)) {
        throw new DatasetFormatError('y', `y.npy must have shape (n,) of class labels or (n, classes) of one-hot rows, got ${pyShape(yShape)}`);
      }
      const n = shape[0];
      if (yShape[0] !== n) throw new DatasetFormatError('y', `x.npy has ${fmt(n)} examples, y.npy ${fmt(yShape[0])}`);
      const inputShape = shape.length === 3 ? [shape[1], shape[2], 1] : shape.slice(1);
      assertExampleLimit('x', 'x.npy', n, limits);
      assertFeatureLimit('x', 'x.npy', inputShape, limits);
      assertValueLimit('x', n, inputShape, limits);
      assertRawSize(yFile);
      assertRawSize(xFile);

      const classes = await readLabels(yFile, limits);
      const valuesPerExample = product(inputShape);
      if (xElement.kind === 'uint' && xElement.size === 1) {
        const x = new Uint8Array(n * valuesPerExample);
        await readData(xFile, xElement, x);
        return assembleDataset({ dtype: 'uint8', x }, classes, inputShape);
      }
      const x = new Float32Array(n * valuesPerExample);
      await readData(xFile, xElement, x);
      assertFinite('x', 'x.npy', x, valuesPerExample);
      return assembleDataset({ dtype: 'float32', x }, classes, inputShape);
    } finally {
      await yFile.source.reader.close();
    }
  } finally {
    await xFile.source.reader.close();
  }
}

async function openNpy(path: string, field: 'x' | 'y'): Promise<NpyFile> {
  const subject = `${field}.npy`;
  const source = await openByteSource(path, field, subject);
  try {
    const header = await readNpyHeader(source.reader, field, subject);
    // Column-major data is only laid out differently when two axes are longer than 1.
    if (header.fortranOrder && header.shape.filter((d) => d > 1).length > 1) {
      throw new DatasetFormatError(field, `${subject} is stored in Fortran (column-major) order; save it with np.save(path, np.ascontiguousarray(${field}))`);
    }
    return { field, subject, source, header, dtype: parseDescr(header.descr), dataOffset: source.reader.consumed };
  } catch (err) {
    await source.reader.close();
    throw err;
  }
}

function itemSize(file: NpyFile): number {
  return file.dtype.element?.size ?? file.dtype.text?.itemSize ?? 0;
}

function sizeMismatch(file: NpyFile, actualText: string, truncated: boolean): DatasetFormatError {
  const need = product(file.header.shape) * itemSize(file);
  const what = truncated ? 'is truncated:' : 'is longer than its header says:';
  const note = file.source.gzipped ? ' (decompressed)' : '';
  return new DatasetFormatError(
    file.field,
    `${file.subject} ${what} shape ${pyShape(file.header.shape)} ${file.dtype.name} is ${fmt(need)} bytes of data but the file has ${actualText}${note}`,
  );
}

function assertRawSize(file: NpyFile): void {
  if (file.source.gzipped) return;
  const need = product(file.header.shape) * itemSize(file);
  const have = file.source.fileSize - file.dataOffset;
  if (have !== need) throw sizeMismatch(file, fmt(have), have < need);
}

async function readData(file: NpyFile, element: ElementType, out: Uint8Array | Float32Array | Float64Array): Promise<void> {
  const need = out.length * element.size;
  const seen = await readElements(file.source.reader.rest(), element, out, need + OVERRUN_LIMIT);
  if (seen === need) return;
  throw sizeMismatch(file, seen > need + OVERRUN_LIMIT ? `more than ${fmt(seen)}` : fmt(seen), seen < need);
}

async function readLabels(file: NpyFile, limits: Required<ParseLimits>): Promise<Classes> {
  const [n, k = 1] = file.header.shape;
  const { element, text } = file.dtype;
  if (text) return readStringLabels(file, text, n, limits);
  if (k === 1) {
    const values = new Float64Array(n);
    await readData(file, element!, values);
    return classesFromIntegers('y', 'y.npy', values, limits);
  }
  if (n * k > limits.maxValues) {
    throw new DatasetFormatError('y', `y.npy has ${fmt(n * k)} values; at most ${fmt(limits.maxValues)} are allowed`);
  }
  if (k > limits.maxClasses) {
    throw new DatasetFormatError('y', `y.npy has ${fmt(k)} one-hot columns; at most ${fmt(limits.maxClasses)} classes are allowed`);
  }
  const values = new Float32Array(n * k);
  await readData(file, element!, values);
  const y = classIndexArray(k, n);
  for (let row = 0; row < n; row++) {
    const one = oneHotIndex(values, row * k, k);
    if (one < 0) {
      const shown = Array.from(values.subarray(row * k, row * k + Math.min(k, 10))).join(', ');
      throw new DatasetFormatError('y', `y.npy[${row}] is not one-hot (values ${shown}${k > 10 ? ', …' : ''})`);
    }
    y[row] = one;
  }
  const classNames = Array.from({ length: k }, (_, i) => String(i));
  assertTwoClasses('y', 'y.npy', y, classNames);
  return { y, numClasses: k, classNames };
}

/** Index of the single 1 in `values[start..start+k)`, or -1 unless every other value is 0. */
function oneHotIndex(values: Float32Array, start: number, k: number): number {
  let found = -1;
  for (let j = 0; j < k; j++) {
    const v = values[start + j];
    if (v === 1 && found < 0) found = j;
    else if (v !== 0) return -1;
  }
  return found;
}

async function readStringLabels(file: NpyFile, text: NonNullable<NpyDtype['text']>, n: number, limits: Required<ParseLimits>): Promise<Classes> {
  if (text.itemSize > MAX_LABEL_CHARS * 4) {
    throw new DatasetFormatError('y', `y.npy holds strings of up to ${fmt(text.itemSize)} bytes; labels must be shorter than ${MAX_LABEL_CHARS} characters`);
  }
  const bytes = new Uint8Array(n * text.itemSize);
  await readData(file, { kind: 'uint', size: 1, littleEndian: true }, bytes);
  const view = new DataView(bytes.buffer);
  const utf8 = new TextDecoder('utf-8');
  const idOf = new Map<string, number>();
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const start = i * text.itemSize;
    let label = '';
    if (text.encoding === 'utf-32') {
      for (let o = start; o < start + text.itemSize; o += 4) {
        const cp = view.getUint32(o, text.littleEndian);
        if (cp === 0) break;
        label += String.fromCodePoint(cp);
      }
    } else {
      let end = start + text.itemSize;
      while (end > start && bytes[end - 1] === 0) end--;
      label = utf8.decode(bytes.subarray(start, end));
    }
    label = label.trim();
    if (label === '') throw new DatasetFormatError('y', `y.npy[${i}] is an empty string`);
    let id = idOf.get(label);
    if (id === undefined) {
      id = idOf.size;
      if (id >= limits.maxClasses) {
        throw new DatasetFormatError('y', `y.npy has more than ${fmt(limits.maxClasses)} distinct labels; at most ${fmt(limits.maxClasses)} classes are allowed`);
      }
      idOf.set(label, id);
    }
    ids[i] = id;
  }
  const classes = classesFromLabels([...idOf.keys()], ids);
  assertTwoClasses('y', 'y.npy', classes.y, classes.classNames);
  return classes;
}
