import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIdx } from '../../src/data/parsers/idx.parser.js';
import { concatBytes, createScratch, expectFormatError, gzip, idxFile, mnistBytes, packValues, sameBytes } from './fixtures.js';

let scratch: Awaited<ReturnType<typeof createScratch>>;
let digits: { x: Uint8Array; y: Uint8Array };
let images: string;
let labels: string;

beforeAll(async () => {
  scratch = await createScratch();
  digits = await mnistBytes(1000);
  images = await scratch.write('images-idx3-ubyte', idxFile(0x08, [1000, 28, 28], digits.x));
  labels = await scratch.write('labels-idx1-ubyte', idxFile(0x08, [1000], digits.y));
});
afterAll(() => scratch.remove());

describe('parseIdx: real MNIST digits', () => {
  it('reads raw IDX files as uint8 images with their labels', async () => {
    const d = await parseIdx({ images, labels });
    expect(d.dtype).toBe('uint8');
    expect(d.x).toBeInstanceOf(Uint8Array);
    expect(sameBytes(d.x, digits.x)).toBe(true);
    expect(d.y).toEqual(digits.y);
    expect(d.count).toBe(1000);
    expect(d.inputShape).toEqual([28, 28, 1]);
    expect(d.numClasses).toBe(10);
    expect(d.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(d.stats.perClassCounts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(d.stats.perClassCounts.every((n) => n > 60)).toBe(true);
    expect([d.stats.min, d.stats.max]).toEqual([0, 255]);
    // MNIST's well-known pixel statistics (0.1307 / 0.3081 on the 0..1 scale).
    expect(d.stats.mean[0] / 255).toBeCloseTo(0.13, 1);
    expect(d.stats.std[0] / 255).toBeCloseTo(0.31, 1);
  });

  it('gunzips files by their magic bytes, whatever their names', async () => {
    const gzImages = await scratch.write('images.idx', gzip(idxFile(0x08, [1000, 28, 28], digits.x)));
    const gzLabels = await scratch.write('labels.bin', gzip(idxFile(0x08, [1000], digits.y)));
    const d = await parseIdx({ images: gzImages, labels: gzLabels });
    expect(sameBytes(d.x, digits.x)).toBe(true);
    expect(d.y).toEqual(digits.y);
  });

  it('reads all 10,000 digits gzipped, across many decompressed chunks', async () => {
    const all = await mnistBytes(10_000);
    const gzImages = await scratch.write('all-images.gz', gzip(idxFile(0x08, [10_000, 28, 28], all.x)));
    const gzLabels = await scratch.write('all-labels.gz', gzip(idxFile(0x08, [10_000], all.y)));
    const d = await parseIdx({ images: gzImages, labels: gzLabels });
    expect(d.count).toBe(10_000);
    expect(d.stats.perClassCounts).toEqual(Array.from({ length: 10 }, (_, k) => all.y.filter((v) => v === k).length));
    expect(sameBytes(d.x, all.x)).toBe(true);
  });
});

describe('parseIdx: other element types and shapes', () => {
  const values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
  it.each([
    ['int8', 0x09, 'int', 1],
    ['int16', 0x0b, 'int', 2],
    ['int32', 0x0c, 'int', 4],
    ['float32', 0x0d, 'float', 4],
    ['float64', 0x0e, 'float', 8],
  ] as const)('converts %s images to float32', async (_name, code, kind, size) => {
    const signed = values.map((v) => (kind === 'float' ? v / 4 - 2 : v - 12));
    const img = await scratch.write(`t-${code}`, idxFile(code, [2, 2, 3, 2], packValues(signed, kind, size, false)));
    const lab = await scratch.write(`t-${code}-labels`, idxFile(0x08, [2], Uint8Array.of(0, 1)));
    const d = await parseIdx({ images: img, labels: lab });
    expect(d.dtype).toBe('float32');
    expect(Array.from(d.x)).toEqual(signed);
    expect(d.inputShape).toEqual([2, 3, 2]);
    expect(d.stats.mean).toHaveLength(2);
  });

  it('treats 2-dimensional images files as feature vectors', async () => {
    const img = await scratch.write('features', idxFile(0x08, [4, 6], Uint8Array.from(values)));
    const lab = await scratch.write('features-labels', idxFile(0x08, [4], Uint8Array.of(0, 1, 0, 1)));
    const d = await parseIdx({ images: img, labels: lab });
    expect(d.inputShape).toEqual([6]);
    expect(d.stats.mean).toEqual([9, 10, 11, 12, 13, 14]);
  });

  it('takes label values at face value: values up to 12 give 13 classes, unused ones empty', async () => {
    const img = await scratch.write('gap', idxFile(0x08, [3, 2, 2], new Uint8Array(12)));
    const lab = await scratch.write('gap-labels', idxFile(0x0c, [3], packValues([0, 12, 5], 'int', 4, false)));
    const d = await parseIdx({ images: img, labels: lab });
    expect(d.numClasses).toBe(13);
    expect(d.classNames).toEqual(Array.from({ length: 13 }, (_, i) => String(i)));
    expect(Array.from(d.y)).toEqual([0, 12, 5]);
    expect(d.stats.perClassCounts).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
  });
});

describe('parseIdx: broken files', () => {
  const idx3 = (n: number) => idxFile(0x08, [n, 28, 28], digits.x.subarray(0, n * 784));
  const idx1 = (n: number) => idxFile(0x08, [n], digits.y.subarray(0, n));
  const pair = async (name: string, img: Uint8Array, lab: Uint8Array) => ({
    images: await scratch.write(`${name}-images`, img),
    labels: await scratch.write(`${name}-labels`, lab),
  });

  it('rejects a file that is not IDX, showing its magic', async () => {
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    await expectFormatError(parseIdx(await pair('png', png, idx1(10))), 'images', 'images file is not an IDX file (magic 0x89504e47)');
  });

  it('rejects a file too short to hold the magic', async () => {
    await expectFormatError(parseIdx(await pair('short', idx3(10), Uint8Array.of(0, 0))), 'labels', 'labels file is not an IDX file (it is only 2 bytes long)');
  });

  it('rejects an unknown element type', async () => {
    const bad = idx3(10);
    bad[2] = 0x07;
    await expectFormatError(
      parseIdx(await pair('type', bad, idx1(10))),
      'images',
      'images file has unknown IDX data type 0x07; known: 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64',
    );
  });

  it('rejects a header cut short', async () => {
    await expectFormatError(parseIdx(await pair('hdr', idx3(10).subarray(0, 9), idx1(10))), 'images', 'images file is truncated: its header is incomplete');
  });

  it('rejects labels with more than one dimension', async () => {
    await expectFormatError(parseIdx(await pair('ldims', idx3(10), idxFile(0x08, [10, 1, 1], digits.y.subarray(0, 10)))), 'labels', 'labels file must have 1 dimension, got 3');
  });

  it('rejects images with 1 dimension', async () => {
    await expectFormatError(
      parseIdx(await pair('idims', idxFile(0x08, [10], new Uint8Array(10)), idx1(10))),
      'images',
      'images file must have 2 to 4 dimensions (images, height, width, channels), got 1',
    );
  });

  it('rejects float labels', async () => {
    await expectFormatError(
      parseIdx(await pair('lfloat', idx3(2), idxFile(0x0d, [2], packValues([0, 1], 'float', 4, false)))),
      'labels',
      'labels file must hold whole numbers, got float32 values',
    );
  });

  it('rejects images that hold no data', async () => {
    await expectFormatError(parseIdx(await pair('empty', idxFile(0x08, [0, 28, 28], new Uint8Array(0)), idx1(0))), 'images', 'images file holds no data (shape 0x28x28)');
  });

  it('rejects label and image counts that differ', async () => {
    const all = await mnistBytes(10_000);
    // The counts are compared before any data is read, so the images data can stay short.
    const files = await pair('count', idxFile(0x08, [10_000, 28, 28], digits.x), idxFile(0x08, [9_999], all.y.subarray(0, 9_999)));
    await expectFormatError(parseIdx(files), 'labels', 'labels file has 9,999 items, images file 10,000');
  });

  it('rejects a truncated images file, raw and gzipped', async () => {
    const all = await mnistBytes(10_000);
    const cut = idxFile(0x08, [10_000, 28, 28], all.x).subarray(0, 7_000_016);
    const labelsFile = idxFile(0x08, [10_000], all.y);
    const message = 'images file is truncated: header says 10,000 images of 28x28 (7,840,016 bytes) but the file has 7,000,016';
    await expectFormatError(parseIdx(await pair('trunc', cut, labelsFile)), 'images', message);
    await expectFormatError(parseIdx(await pair('trunc-gz', gzip(cut), gzip(labelsFile))), 'images', `${message} (decompressed)`);
  });

  it('rejects a truncated labels file', async () => {
    await expectFormatError(
      parseIdx(await pair('ltrunc', idx3(1000), idx1(1000).subarray(0, 1000))),
      'labels',
      'labels file is truncated: header says 1,000 labels (1,008 bytes) but the file has 1,000',
    );
  });

  it('rejects data past the end the header describes, raw and gzipped', async () => {
    const long = concatBytes(idx3(10), new Uint8Array(5));
    const message = 'images file is longer than its header says: header says 10 images of 28x28 (7,856 bytes) but the file has 7,861';
    await expectFormatError(parseIdx(await pair('long', long, idx1(10))), 'images', message);
    await expectFormatError(parseIdx(await pair('long-gz', gzip(long), idx1(10))), 'images', `${message} (decompressed)`);
  });

  it('stops counting a gzip bomb soon after the declared size', async () => {
    // A multi-member gzip: 80 members of 1 MiB of zeros each, cheap to build.
    const zeros = gzip(new Uint8Array(1 << 20));
    const bomb = concatBytes(gzip(idx3(2)), ...Array.from({ length: 80 }, () => zeros));
    const err = await parseIdx(await pair('bomb', bomb, idx1(2))).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /^images file is longer than its header says: header says 2 images of 28x28 \(1,584 bytes\) but the file has more than [\d,]+ \(decompressed\)$/,
    );
  });

  it('rejects a gzip stream that cannot be decompressed', async () => {
    const gz = gzip(idx3(100));
    const corrupt = concatBytes(gz.subarray(0, 10), Uint8Array.of(0xff, 0xff, 0xff), gz.subarray(13));
    const err = await parseIdx(await pair('corrupt', corrupt, idx1(100))).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^images file is gzipped but cannot be decompressed: .+/);
    await expectFormatError(parseIdx(await pair('corrupt', corrupt, idx1(100))), 'images', (err as Error).message);
  });

  it('rejects negative labels', async () => {
    const lab = idxFile(0x09, [3], packValues([0, -1, 1], 'int', 1, false));
    await expectFormatError(parseIdx(await pair('neg', idx3(3), lab)), 'labels', 'labels file has -1 at index 1; class labels must be whole numbers from 0');
  });

  it('rejects more classes than allowed', async () => {
    const lab = idxFile(0x08, [3], Uint8Array.of(0, 12, 1));
    await expectFormatError(
      parseIdx({ ...(await pair('many', idx3(3), lab)), maxClasses: 10 }),
      'labels',
      'labels file has values up to 12 but at most 10 classes are allowed (labels 0 to 9)',
    );
  });

  it('rejects labels with a single class', async () => {
    await expectFormatError(parseIdx(await pair('one', idx3(3), idxFile(0x08, [3], Uint8Array.of(3, 3, 3)))), 'labels', 'labels file has 1 class (3); at least 2 are needed');
  });

  it('rejects more examples or values than allowed, before reading the data', async () => {
    const files = { images, labels };
    await expectFormatError(parseIdx({ ...files, maxExamples: 500 }), 'images', 'images file has 1,000 examples; at most 500 are allowed');
    await expectFormatError(parseIdx({ ...files, maxValues: 100_000 }), 'images', 'the dataset would hold 784,000 values (1,000 examples of 28x28x1); at most 100,000 are allowed');
  });

  it('refuses wide feature vectors from the header, before reading the data', async () => {
    // [20, 100000] is 2,000,000 values, under maxValues; the header alone decides (no body follows).
    const files = await pair(
      'wide',
      idxFile(0x0d, [20, 100_000], new Uint8Array(0)),
      idxFile(
        0x08,
        [20],
        new Uint8Array(20).map((_, i) => i % 2),
      ),
    );
    await expectFormatError(parseIdx(files), 'images', 'images file has 100,000 features; at most 65,536 are allowed');
    const vectors = await pair(
      'six',
      idxFile(
        0x08,
        [4, 6],
        Uint8Array.from({ length: 24 }, (_, i) => i),
      ),
      idxFile(0x08, [4], Uint8Array.of(0, 1, 0, 1)),
    );
    const d = await parseIdx({ ...vectors, maxFeatures: 6 });
    expect(d.inputShape).toEqual([6]);
    expect(Array.from(d.x)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    await expectFormatError(parseIdx({ ...vectors, maxFeatures: 5 }), 'images', 'images file has 6 features; at most 5 are allowed');
  });

  it('rejects NaN in float images, naming the example', async () => {
    const vals = Array.from({ length: 16 }, (_, i) => (i === 13 ? NaN : i));
    const img = idxFile(0x0d, [4, 2, 2], packValues(vals, 'float', 4, false));
    await expectFormatError(parseIdx(await pair('nan', img, idxFile(0x08, [4], Uint8Array.of(0, 1, 0, 1)))), 'images', 'images file has a non-finite value (NaN) in example 3');
  });
});
