import type { ArtifactStore } from '../storage/artifact-store.js';
import type { ParsedDataset } from './parsers/index.js';

/**
 * An uploaded dataset as stored: `x.bin` (raw values, uint8 or float32
 * little-endian, row-major) and `y.bin` (class indices, uint8 or uint16).
 * Raw values are kept so that normalisation stays a training choice.
 */
const X_BIN = 'x.bin';
const Y_BIN = 'y.bin';

export function datasetStorageKey(datasetId: string): string {
  return `datasets/${datasetId}`;
}

export async function saveDatasetFiles(store: ArtifactStore, key: string, parsed: ParsedDataset): Promise<number> {
  const x = new Uint8Array(parsed.x.buffer, parsed.x.byteOffset, parsed.x.byteLength);
  const y = new Uint8Array(parsed.y.buffer, parsed.y.byteOffset, parsed.y.byteLength);
  return store.put(key, { [X_BIN]: x, [Y_BIN]: y });
}

export interface StoredLayout {
  dtype: string;
  examples: number;
  inputShape: number[];
  numClasses: number;
}

/** Raw values as float32 (the tensors' type) and labels; `limit` keeps the first N examples. */
export async function loadDatasetFiles(store: ArtifactStore, key: string, layout: StoredLayout, limit?: number) {
  const count = Math.min(limit ?? layout.examples, layout.examples);
  const size = layout.inputShape.reduce((a, b) => a * b, 1);
  // A limit reads only the examples it keeps (from an object store, only those bytes travel).
  const read = (file: string, bytes: number) => (count < layout.examples ? store.getRange(key, file, 0, bytes) : store.get(key, file));
  const [xBuf, yBuf] = await Promise.all([read(X_BIN, count * size * (layout.dtype === 'uint8' ? 1 : 4)), read(Y_BIN, count * (layout.numClasses > 256 ? 2 : 1))]);
  if (!xBuf || !yBuf) throw new Error(`dataset files under ${key} are missing`);
  const x = new Float32Array(count * size);
  if (layout.dtype === 'uint8') {
    x.set(xBuf.subarray(0, count * size));
  } else {
    const aligned = new Float32Array(xBuf.buffer.slice(xBuf.byteOffset, xBuf.byteOffset + count * size * 4));
    x.set(aligned);
  }
  const wide = layout.numClasses > 256;
  const y = new Uint8Array(count);
  if (wide) {
    const labels = new Uint16Array(yBuf.buffer.slice(yBuf.byteOffset, yBuf.byteOffset + count * 2));
    // Training one-hot encodes from these; more than 255 classes need the wider array.
    return { x, y: labels, count, inputShape: layout.inputShape, numClasses: layout.numClasses };
  }
  y.set(yBuf.subarray(0, count));
  return { x, y, count, inputShape: layout.inputShape, numClasses: layout.numClasses };
}
