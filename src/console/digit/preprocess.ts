/**
 * Turns a drawing into an MNIST-like instance, the way the MNIST digits were
 * made: the ink's bounding box is scaled (aspect ratio kept) so that its
 * longer side is 20 pixels, then placed in a 28×28 image so that its centre
 * of mass falls on the image's centre; values are ink intensity in 0..1.
 * Pure: no DOM, so it is unit-tested in Node and runs the same in the page.
 */

export const MNIST_SIZE = 28;
export const MNIST_BOX = 20;
/** Ink below this (0..1) counts as paper when looking for the bounding box. */
const INK_THRESHOLD = 0.02;

export interface DigitInstance {
  /** 784 values, row by row, 0 (paper) to 1 (ink). */
  pixels: number[];
  /** True when nothing was drawn: pixels are all 0. */
  empty: boolean;
  /** Where the ink's centre of mass ended up, in pixels of the 28×28 image (14, 14 when centred). */
  centerOfMass: { x: number; y: number };
}

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

function inkBox(ink: ArrayLike<number>, width: number, height: number): Box | null {
  let left = width;
  let right = -1;
  let top = height;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > INK_THRESHOLD) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
  }
  return right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** Area-averaging resample of the box to `tw`×`th` (each target pixel averages the source area it covers). */
function resample(ink: ArrayLike<number>, width: number, box: Box, tw: number, th: number): Float64Array {
  const out = new Float64Array(tw * th);
  const sx = box.width / tw;
  const sy = box.height / th;
  for (let ty = 0; ty < th; ty++) {
    const y0 = ty * sy;
    const y1 = y0 + sy;
    for (let tx = 0; tx < tw; tx++) {
      const x0 = tx * sx;
      const x1 = x0 + sx;
      let sum = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += wx * wy * ink[(box.top + y) * width + box.left + x];
        }
      }
      out[ty * tw + tx] = sum / (sx * sy);
    }
  }
  return out;
}

function centerOfMass(values: ArrayLike<number>, w: number, h: number): { x: number; y: number } {
  let total = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = values[y * w + x];
      total += v;
      // Pixel centres: a single lit pixel (0, 0) has its mass at (0.5, 0.5).
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  return total > 0 ? { x: mx / total, y: my / total } : { x: w / 2, y: h / 2 };
}

/**
 * `ink` holds `width`×`height` intensities in 0..1 (e.g. a canvas's alpha
 * divided by 255), row by row.
 */
export function preprocessDigit(ink: ArrayLike<number>, width: number, height: number): DigitInstance {
  if (ink.length !== width * height) throw new Error(`ink has ${ink.length} values, expected ${width}×${height} = ${width * height}`);
  const size = MNIST_SIZE;
  const pixels = new Array<number>(size * size).fill(0);
  const box = inkBox(ink, width, height);
  if (!box) return { pixels, empty: true, centerOfMass: { x: size / 2, y: size / 2 } };

  const scale = MNIST_BOX / Math.max(box.width, box.height);
  const tw = Math.max(1, Math.min(MNIST_BOX, Math.round(box.width * scale)));
  const th = Math.max(1, Math.min(MNIST_BOX, Math.round(box.height * scale)));
  const small = resample(ink, width, box, tw, th);
  // Strong strokes reach 1, as MNIST's do, whatever the pen's width was.
  let max = 0;
  for (const v of small) max = Math.max(max, v);
  if (max > 0) for (let i = 0; i < small.length; i++) small[i] = Math.min(1, small[i] / max);

  const com = centerOfMass(small, tw, th);
  // A translation, as MNIST did: a very lopsided drawing may lose ink past the edge rather than stay off-centre.
  const ox = Math.round(size / 2 - com.x);
  const oy = Math.round(size / 2 - com.y);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const px = ox + x;
      const py = oy + y;
      if (px >= 0 && px < size && py >= 0 && py < size) pixels[py * size + px] = small[y * tw + x];
    }
  }
  return {
    pixels,
    empty: false,
    centerOfMass: centerOfMass(pixels, size, size),
  };
}

/** Scales 0..1 pixels to the value range the model was trained on (e.g. [0, 255]). */
export function toValueRange(pixels: readonly number[], range: readonly number[]): number[] {
  const [lo, hi] = [range[0] ?? 0, range[1] ?? 1];
  return pixels.map((v) => lo + v * (hi - lo));
}
