import type { NormalizedAugmentation } from '../model-spec/augmentation.schema.js';

/** Height, width and channels of one image, stored row by row with channels last (HWC), as every image dataset here is. */
export interface ImageGeometry {
  height: number;
  width: number;
  channels: number;
}

/**
 * Where output pixel (x, y) reads from in its source image: (ax·x + bx·y + cx,
 * ay·x + by·y + cy), in pixel coordinates. The inverse of the change applied
 * to the picture, so that each output pixel is computed once.
 */
export interface SourceMap {
  ax: number;
  bx: number;
  cx: number;
  ay: number;
  by: number;
  cy: number;
}

/** True when the settings change nothing, so the images can be copied as they are. */
export function isIdentityAugmentation(a: NormalizedAugmentation): boolean {
  return a.shift === 0 && a.rotation === 0 && a.zoom === 0 && !a.flipHorizontal;
}

/**
 * Draws one random change within the settings (uniform shift, angle and
 * scale, a coin for the mirror) and returns where each output pixel reads
 * from. The picture is turned and scaled about its centre, then shifted.
 */
export function randomSourceMap(a: NormalizedAugmentation, g: ImageGeometry, rng: () => number): SourceMap {
  // Five draws per image whatever the settings, so that turning one change on or off leaves the others' draws as they were.
  const uniform = (limit: number) => (rng() * 2 - 1) * limit;
  const dx = uniform(a.shift) * g.width;
  const dy = uniform(a.shift) * g.height;
  const angle = (uniform(a.rotation) * Math.PI) / 180;
  const scale = 1 + uniform(a.zoom);
  const coin = rng();
  const flip = a.flipHorizontal && coin < 0.5;
  // Output p' = C + s·R(θ)·(p − C) + d, so source p = C + R(−θ)·(p' − C − d) / s.
  const cxImg = (g.width - 1) / 2;
  const cyImg = (g.height - 1) / 2;
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  const ox = -cxImg - dx;
  const oy = -cyImg - dy;
  let map: SourceMap = {
    ax: cos,
    bx: sin,
    cx: cxImg + cos * ox + sin * oy,
    ay: -sin,
    by: cos,
    cy: cyImg - sin * ox + cos * oy,
  };
  // A mirrored source: read column (width − 1 − x) of what the map gives.
  if (flip) map = { ax: -map.ax, bx: -map.bx, cx: g.width - 1 - map.cx, ay: map.ay, by: map.by, cy: map.cy };
  return map;
}

/**
 * Resamples one image through `map` (bilinear; positions outside the image
 * take the nearest edge pixel, which keeps a dark background dark whatever
 * the normalisation). Reads `src` from `srcOffset`, writes `dst` from `dstOffset`.
 */
export function warpImage(src: Float32Array, srcOffset: number, dst: Float32Array, dstOffset: number, g: ImageGeometry, map: SourceMap): void {
  const { width: w, height: h, channels: c } = g;
  const maxX = w - 1;
  const maxY = h - 1;
  let out = dstOffset;
  for (let y = 0; y < h; y++) {
    let sx = map.bx * y + map.cx;
    let sy = map.by * y + map.cy;
    for (let x = 0; x < w; x++, sx += map.ax, sy += map.ay) {
      const px = Math.min(Math.max(sx, 0), maxX);
      const py = Math.min(Math.max(sy, 0), maxY);
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const y1 = y0 < maxY ? y0 + 1 : y0;
      const fx = px - x0;
      const fy = py - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const r0 = srcOffset + y0 * w * c;
      const r1 = srcOffset + y1 * w * c;
      for (let k = 0; k < c; k++) {
        dst[out++] = w00 * src[r0 + x0 * c + k] + w01 * src[r0 + x1 * c + k] + w10 * src[r1 + x0 * c + k] + w11 * src[r1 + x1 * c + k];
      }
    }
  }
}
