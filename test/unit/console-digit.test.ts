import { describe, expect, it } from 'vitest';
import { MNIST_BOX, preprocessDigit, toValueRange } from '../../src/console/digit/preprocess.js';

/** A `w`×`h` canvas of zeros with the rectangles given lit at `value`. */
function canvas(w: number, h: number, rects: [number, number, number, number][], value = 1): Float32Array {
  const ink = new Float32Array(w * h);
  for (const [x0, y0, rw, rh] of rects) for (let y = y0; y < y0 + rh; y++) for (let x = x0; x < x0 + rw; x++) ink[y * w + x] = value;
  return ink;
}

/** Bounding box of the non-zero pixels of a 28×28 image. */
function box(pixels: number[]) {
  const lit = pixels.flatMap((v, i) => (v > 0.02 ? [[i % 28, Math.floor(i / 28)]] : []));
  const xs = lit.map(([x]) => x);
  const ys = lit.map(([, y]) => y);
  return {
    width: Math.max(...xs) - Math.min(...xs) + 1,
    height: Math.max(...ys) - Math.min(...ys) + 1,
  };
}

function mass(pixels: number[]) {
  let t = 0;
  let x = 0;
  let y = 0;
  pixels.forEach((v, i) => {
    t += v;
    x += v * ((i % 28) + 0.5);
    y += v * (Math.floor(i / 28) + 0.5);
  });
  return { x: x / t, y: y / t };
}

describe('preprocessDigit: a drawing becomes an MNIST-like instance', () => {
  it('gives 784 zeros for an empty drawing', () => {
    const d = preprocessDigit(new Float32Array(280 * 280), 280, 280);
    expect(d.empty).toBe(true);
    expect(d.pixels).toHaveLength(784);
    expect(d.pixels.every((v) => v === 0)).toBe(true);
  });

  it('scales the ink to a 20-pixel box, keeps its aspect ratio and centres its mass in 28×28', () => {
    // A tall bar in the top-left corner of a 280×280 pad: 40 wide, 200 tall.
    const d = preprocessDigit(canvas(280, 280, [[10, 20, 40, 200]]), 280, 280);
    expect(d.empty).toBe(false);
    expect(d.pixels).toHaveLength(784);
    expect(box(d.pixels)).toEqual({ width: 4, height: MNIST_BOX });
    const m = mass(d.pixels);
    expect(Math.abs(m.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(m.y - 14)).toBeLessThanOrEqual(0.5);
    expect(d.centerOfMass.x).toBeCloseTo(m.x, 6);
    expect(d.centerOfMass.y).toBeCloseTo(m.y, 6);
    expect(Math.min(...d.pixels)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...d.pixels)).toBe(1);
  });

  it('centres by mass, not by box: a heavy stroke pulls the image towards it', () => {
    // An "L": a thin vertical bar and a heavier foot to its right.
    const d = preprocessDigit(
      canvas(100, 100, [
        [10, 10, 8, 80],
        [10, 78, 60, 12],
      ]),
      100,
      100,
    );
    const m = mass(d.pixels);
    expect(Math.abs(m.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(m.y - 14)).toBeLessThanOrEqual(0.5);
    expect(d.pixels.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // The box is not centred: its middle sits right of the image's centre, pulled by the foot.
    const columns = d.pixels.flatMap((v, i) => (v > 0.02 ? [i % 28] : []));
    expect((Math.min(...columns) + Math.max(...columns) + 1) / 2 - 14).toBeGreaterThan(2);
  });

  it('brings faint strokes up to full intensity and enlarges small drawings', () => {
    const d = preprocessDigit(canvas(56, 56, [[20, 20, 5, 10]], 0.4), 56, 56);
    expect(box(d.pixels)).toEqual({ width: 10, height: 20 });
    expect(Math.max(...d.pixels)).toBe(1);
  });

  it('refuses ink of the wrong size and scales to the model’s value range', () => {
    expect(() => preprocessDigit(new Float32Array(10), 4, 4)).toThrow(/ink has 10 values, expected 4×4 = 16/);
    expect(toValueRange([0, 0.5, 1], [0, 255])).toEqual([0, 127.5, 255]);
    expect(toValueRange([0, 1], [0, 1])).toEqual([0, 1]);
  });
});
