import pngjs from 'pngjs';
import type { ArtifactStore } from '../storage/artifact-store.js';
import type { DatasetInfo } from './datasets.js';
import { loadMnist } from './mnist.dataset.js';

export interface DatasetPreview {
  /** For image datasets: PNG data URLs of the first examples, with their class. */
  thumbnails?: { label: string; dataUrl: string }[];
  /** For other datasets: the first rows' values (at most 32 each) and class. */
  rows?: { label: string; values: number[]; truncated: boolean }[];
}

const SAMPLES = 8;

function toPng(values: ArrayLike<number>, offset: number, width: number, height: number, channels: number, min: number, max: number): string {
  const png = new pngjs.PNG({ width, height });
  const span = max - min || 1;
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const v = values[offset + p * channels + (channels === 3 ? c : 0)];
      png.data[p * 4 + c] = Math.max(0, Math.min(255, Math.round(((v - min) / span) * 255)));
    }
    png.data[p * 4 + 3] = 255;
  }
  return `data:image/png;base64,${pngjs.PNG.sync.write(png).toString('base64')}`;
}

/** The first few examples, read without loading the whole dataset. */
export async function datasetPreview(info: DatasetInfo, store: ArtifactStore, storageKey: string | null): Promise<DatasetPreview> {
  const size = info.inputShape.reduce((a, b) => a * b, 1);
  const n = Math.min(SAMPLES, info.examples);
  let x: ArrayLike<number>;
  let y: ArrayLike<number>;
  if (!storageKey) {
    const data = await loadMnist(n);
    x = data.x;
    y = data.y;
  } else {
    const bytesPer = info.dtype === 'uint8' ? 1 : 4;
    const [xb, yb] = await Promise.all([store.getRange(storageKey, 'x.bin', 0, n * size * bytesPer), store.getRange(storageKey, 'y.bin', 0, n * (info.numClasses > 256 ? 2 : 1))]);
    if (!xb || !yb) return {};
    x = bytesPer === 1 ? new Uint8Array(xb) : new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength));
    y = info.numClasses > 256 ? new Uint16Array(yb.buffer.slice(yb.byteOffset, yb.byteOffset + yb.byteLength)) : new Uint8Array(yb);
  }
  const label = (i: number) => info.classNames[y[i]] ?? String(y[i]);
  if (info.image) {
    const [h, w, c] = info.inputShape;
    return { thumbnails: Array.from({ length: n }, (_, i) => ({ label: label(i), dataUrl: toPng(x, i * size, w, h, c, info.valueRange[0], info.valueRange[1]) })) };
  }
  return {
    rows: Array.from({ length: Math.min(5, n) }, (_, i) => ({
      label: label(i),
      values: Array.from({ length: Math.min(32, size) }, (_, j) => Number(x[i * size + j])),
      truncated: size > 32,
    })),
  };
}
