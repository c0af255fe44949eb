import { describe, expect, it } from 'vitest';
import { AUGMENTATION_DEFAULTS, type NormalizedAugmentation } from '../../src/model-spec/augmentation.schema.js';
import { isIdentityAugmentation, randomSourceMap, warpImage, type ImageGeometry } from '../../src/data/augmentation.js';
import { epochBatchArrays, type BatchOptions } from '../../src/worker/training-batches.js';
import type { ExampleArrays } from '../../src/worker/examples.js';

const settings = (a: Partial<NormalizedAugmentation>): NormalizedAugmentation => ({ ...AUGMENTATION_DEFAULTS, ...a });
/** A generator that always answers `u`: every uniform draw is then (2u − 1) of its limit, and the mirror's coin is u. */
const fixed = (u: number) => () => u;

/** An image of `g` with one pixel lit (every channel 1 + channel), the rest 0. */
function onePixel(g: ImageGeometry, x: number, y: number): Float32Array {
  const img = new Float32Array(g.height * g.width * g.channels);
  for (let k = 0; k < g.channels; k++) img[(y * g.width + x) * g.channels + k] = 1 + k;
  return img;
}

function warp(src: Float32Array, g: ImageGeometry, a: NormalizedAugmentation, rng: () => number): Float32Array {
  const dst = new Float32Array(src.length);
  warpImage(src, 0, dst, 0, g, randomSourceMap(a, g, rng));
  return dst;
}

describe('warpImage through randomSourceMap', () => {
  const g: ImageGeometry = { height: 5, width: 5, channels: 2 };

  it('copies the image exactly when nothing is asked for', () => {
    const src = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    expect(isIdentityAugmentation(settings({}))).toBe(true);
    expect(Array.from(warp(src, g, settings({}), Math.random))).toEqual(Array.from(src));
  });

  it('shifts by whole pixels right and down, channels kept together', () => {
    // u = 0.75: a draw of half the limit; 0.4 · 5 / 2 = 1 pixel both ways.
    const out = warp(onePixel(g, 1, 2), g, settings({ shift: 0.4 }), fixed(0.75));
    expect(Array.from(out)).toEqual(Array.from(onePixel(g, 2, 3)));
  });

  it('turns a quarter turn about the centre', () => {
    // u = 0.75 of 180 degrees: 90. In image coordinates (y down) (x, y) − c turns to (−(y − c_y), x − c_x).
    const out = warp(onePixel(g, 3, 2), g, settings({ rotation: 180 }), fixed(0.75));
    const expected = onePixel(g, 2, 3);
    expect(Array.from(out).map((v) => Math.round(v * 1e6) / 1e6)).toEqual(Array.from(expected));
  });

  it('mirrors left to right when the coin says so, and only then', () => {
    const src = onePixel(g, 0, 1);
    expect(Array.from(warp(src, g, settings({ flipHorizontal: true }), fixed(0.25)))).toEqual(Array.from(onePixel(g, 4, 1)));
    expect(Array.from(warp(src, g, settings({ flipHorizontal: true }), fixed(0.5)))).toEqual(Array.from(src));
  });

  it('zooms about the centre: the centre pixel stays, the others move away from it', () => {
    // u = 1: the whole limit, scale 1.5. Output column x reads source column 2 + (x − 2) / 1.5: columns 3 and 4 read 2.67 and 3.33.
    const odd: ImageGeometry = { height: 5, width: 5, channels: 1 };
    expect(warp(onePixel(odd, 2, 2), odd, settings({ zoom: 0.5 }), fixed(1))[2 * 5 + 2]).toBe(1);
    const moved = warp(onePixel(odd, 3, 2), odd, settings({ zoom: 0.5 }), fixed(1));
    expect(Array.from(moved.subarray(2 * 5, 3 * 5)).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 0, 0, 0.666667, 0.666667]);
  });

  it('extends the edges: a constant image stays constant under any change', () => {
    const flat = new Float32Array(g.height * g.width * g.channels).fill(-0.42);
    const a = settings({ shift: 0.5, rotation: 180, zoom: 0.5, flipHorizontal: true });
    for (const u of [0, 0.1, 0.5, 0.9, 0.999]) for (const v of warp(flat, g, a, fixed(u))) expect(v).toBeCloseTo(-0.42, 6);
  });
});

describe('epochBatchArrays', () => {
  const image: ImageGeometry = { height: 6, width: 6, channels: 1 };
  const size = 36;
  /** Example i is a constant image of value (label + 1): any augmentation keeps it, so each batch row can be matched to its label. */
  const set: ExampleArrays = (() => {
    const n = 50;
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % 10);
    const x = new Float32Array(n * size);
    for (let i = 0; i < n; i++) x.fill(labels[i] + 1, i * size, (i + 1) * size);
    return { x, labels, n, size };
  })();
  /** Example i has a different pattern per example: the pixel i mod 36 lit. */
  const patterned: ExampleArrays = (() => {
    const n = 50;
    const x = new Float32Array(n * size);
    for (let i = 0; i < n; i++) x[i * size + (i % size)] = 1;
    return { x, labels: Int32Array.from({ length: n }, (_, i) => i % 10), n, size };
  })();
  const augmented = (seed: number): BatchOptions => ({ batchSize: 16, seed, augmentation: { settings: settings({ shift: 0.2, rotation: 15, zoom: 0.1 }), image } });
  const all = (s: ExampleArrays, o: BatchOptions, epoch: number) => [...epochBatchArrays(s, o, epoch)];

  it('keeps shapes and labels: every example once per epoch, with its own label, in batches of batchSize and a last partial one', () => {
    const batches = all(set, augmented(1), 1);
    expect(batches.map((b) => b.size)).toEqual([16, 16, 16, 2]);
    for (const b of batches) {
      expect(b.x).toHaveLength(b.size * size);
      expect(b.labels).toHaveLength(b.size);
      for (let i = 0; i < b.size; i++) for (let k = 0; k < size; k++) expect(b.x[i * size + k]).toBeCloseTo(b.labels[i] + 1, 5);
    }
    const seen = batches.flatMap((b) => Array.from(b.labels)).sort();
    expect(seen).toEqual(Array.from(set.labels).sort());
  });

  it('is the same for the same seed and epoch, and differs between epochs and seeds', () => {
    const flat = (batches: { x: Float32Array }[]) => batches.flatMap((b) => Array.from(b.x));
    const a = flat(all(patterned, augmented(7), 3));
    expect(flat(all(patterned, augmented(7), 3))).toEqual(a);
    expect(flat(all(patterned, augmented(7), 4))).not.toEqual(a);
    expect(flat(all(patterned, augmented(8), 3))).not.toEqual(a);
  });

  it('changes the images only when augmentation asks for it', () => {
    const plain = all(patterned, { batchSize: 16, seed: 7 }, 3);
    // Same order either way: the shuffle has its own random stream.
    const changed = all(patterned, augmented(7), 3);
    expect(changed.map((b) => Array.from(b.labels))).toEqual(plain.map((b) => Array.from(b.labels)));
    expect(changed.flatMap((b) => Array.from(b.x))).not.toEqual(plain.flatMap((b) => Array.from(b.x)));
    // Without augmentation each row is its example, exactly.
    const rows = plain.flatMap((b) => Array.from({ length: b.size }, (_, i) => Array.from(b.x.subarray(i * size, (i + 1) * size))));
    const examples = Array.from({ length: patterned.n }, (_, i) => Array.from(patterned.x.subarray(i * size, (i + 1) * size)));
    expect(rows.map((r) => JSON.stringify(r)).sort()).toEqual(examples.map((r) => JSON.stringify(r)).sort());
  });
});
