/**
 * Resampling weights along one axis. Bilinear as a tent filter over pixel
 * centres; when shrinking, the tent is widened by the scale factor (what
 * Pillow does), so a 3000-pixel photo shrunk to 28 averages every source
 * pixel instead of sampling four and aliasing. Same size gives weight 1 on
 * the same pixel, i.e. an exact copy.
 */
interface AxisTaps {
  first: Int32Array;
  count: Int32Array;
  /** `maxTaps` weights per output pixel, normalised to sum 1. */
  weights: Float64Array;
  maxTaps: number;
}

function axisTaps(inSize: number, outSize: number): AxisTaps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const w = Math.max(0, 1 - Math.abs((j - center + 0.5) / filterScale));
      weights[i * maxTaps + (j - lo)] = w;
      total += w;
    }
    for (let j = lo; j < hi; j++) weights[i * maxTaps + (j - lo)] /= total;
    first[i] = lo;
    count[i] = hi - lo;
  }
  return { first, count, weights, maxTaps };
}

/**
 * Writes `src` (8-bit RGBA) resized to `outWidth x outHeight` into `out` at
 * `offset` as HWC uint8: 1 channel is luma (0.299 R + 0.587 G + 0.114 B, as
 * in ITU-R BT.601 and Pillow's `L` mode), 3 channels RGB. Alpha is dropped.
 * Colour conversion happens before resampling and rounding once at the end,
 * so nothing is rounded twice.
 */
export function resizeRgbaInto(
  src: { width: number; height: number; data: Uint8Array },
  outWidth: number,
  outHeight: number,
  channels: 1 | 3,
  out: Uint8Array,
  offset: number,
): void {
  const { width, height, data } = src;
  const tx = axisTaps(width, outWidth);
  const ty = axisTaps(height, outHeight);
  // Horizontal pass: every source row, resampled to outWidth columns.
  const rows = new Float32Array(height * outWidth * channels);
  for (let y = 0; y < height; y++) {
    const rowStart = y * width * 4;
    for (let x = 0; x < outWidth; x++) {
      const first = tx.first[x];
      const n = tx.count[x];
      const wBase = x * tx.maxTaps;
      const o = (y * outWidth + x) * channels;
      if (channels === 1) {
        let acc = 0;
        for (let k = 0; k < n; k++) {
          const p = rowStart + (first + k) * 4;
          acc += tx.weights[wBase + k] * (0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2]);
        }
        rows[o] = acc;
      } else {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < n; k++) {
          const p = rowStart + (first + k) * 4;
          const w = tx.weights[wBase + k];
          r += w * data[p];
          g += w * data[p + 1];
          b += w * data[p + 2];
        }
        rows[o] = r;
        rows[o + 1] = g;
        rows[o + 2] = b;
      }
    }
  }
  // Vertical pass into the output.
  const rowValues = outWidth * channels;
  for (let y = 0; y < outHeight; y++) {
    const first = ty.first[y];
    const n = ty.count[y];
    const wBase = y * ty.maxTaps;
    const o = offset + y * rowValues;
    for (let v = 0; v < rowValues; v++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += ty.weights[wBase + k] * rows[(first + k) * rowValues + v];
      out[o + v] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.round(acc);
    }
  }
}
