import { describe, expect, it } from 'vitest';
import { resizeRgbaInto } from '../../src/data/parsers/resize.js';
import { createRng } from '../../src/data/random.js';

const image = (width: number, height: number, pixel: (x: number, y: number) => number[]) => {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
  return { width, height, data };
};

const resize = (src: ReturnType<typeof image>, w: number, h: number, channels: 1 | 3) => {
  const out = new Uint8Array(w * h * channels);
  resizeRgbaInto(src, w, h, channels, out, 0);
  return Array.from(out);
};

describe('resizeRgbaInto', () => {
  it('copies exactly at the same size, dropping alpha', () => {
    const rng = createRng(3);
    const src = image(7, 5, () => [0, 0, 0, 0].map(() => Math.floor(rng() * 256)));
    const expected: number[] = [];
    for (let i = 0; i < src.data.length; i += 4) expected.push(src.data[i], src.data[i + 1], src.data[i + 2]);
    expect(resize(src, 7, 5, 3)).toEqual(expected);
  });

  it('keeps a flat colour flat at any size', () => {
    const src = image(13, 9, () => [200, 100, 50, 255]);
    for (const [w, h] of [
      [1, 1],
      [4, 3],
      [13, 9],
      [40, 31],
    ]) {
      const out = resize(src, w, h, 3);
      expect(out).toEqual(Array.from({ length: w * h }, () => [200, 100, 50]).flat());
    }
  });

  it('interpolates linearly between pixel centres when enlarging', () => {
    const src = image(2, 1, (x) => (x === 0 ? [0, 0, 0, 255] : [255, 255, 255, 255]));
    expect(resize(src, 4, 1, 1)).toEqual([0, 64, 191, 255]);
  });

  it('averages when shrinking a lot, instead of aliasing', () => {
    const stripes = image(300, 200, (x) => (x % 2 === 0 ? [0, 0, 0, 255] : [255, 255, 255, 255]));
    for (const v of resize(stripes, 10, 10, 1)) expect(Math.abs(v - 127.5)).toBeLessThan(3);
  });

  it('uses BT.601 luma for one channel', () => {
    const src = image(
      3,
      1,
      (x) =>
        [
          [255, 0, 0, 255],
          [0, 255, 0, 255],
          [0, 0, 255, 255],
        ][x],
    );
    expect(resize(src, 3, 1, 1)).toEqual([76, 150, 29]);
  });

  it('writes only its own slot of the output', () => {
    const out = new Uint8Array(3 * 4).fill(9);
    resizeRgbaInto(
      image(1, 1, () => [1, 2, 3, 4]),
      2,
      2,
      1,
      out,
      4,
    );
    expect(Array.from(out)).toEqual([9, 9, 9, 9, 2, 2, 2, 2, 9, 9, 9, 9]);
  });
});
