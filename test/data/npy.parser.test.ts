import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/data/parsers/npy.parser.js';
import { concatBytes, createScratch, expectFormatError, gzip, mnistBytes, npyFile, npyWithHeader, packValues, sameBytes, utf32Strings } from './fixtures.js';

let scratch: Awaited<ReturnType<typeof createScratch>>;
let n = 0;
const write = (data: Uint8Array) => scratch.write(`a${n++}.npy`, data);
const pair = async (x: Uint8Array, y: Uint8Array) => ({ x: await write(x), y: await write(y) });

const FEATURES = [5.1, 3.5, 1.4, 0.2, 7.0, 3.2, 4.7, 1.4, 6.3, 3.3, 6.0, 2.5];
const f32x = (values = FEATURES, shape = [3, 4]) => npyFile('<f4', shape, packValues(values, 'float', 4, true));
const u8y = (labels: number[]) => npyFile('|u1', [labels.length], Uint8Array.from(labels));

beforeAll(async () => {
  scratch = await createScratch();
});
afterAll(() => scratch.remove());

describe('parseNpy: arrays np.save writes', () => {
  it('reads real MNIST digits saved as uint8 (n, 28, 28) with int64 labels', async () => {
    const digits = await mnistBytes(200);
    const d = await parseNpy(await pair(npyFile('|u1', [200, 28, 28], digits.x), npyFile('<i8', [200], packValues(Array.from(digits.y), 'int', 8, true))));
    expect(d.dtype).toBe('uint8');
    expect(sameBytes(d.x, digits.x)).toBe(true);
    expect(d.y).toEqual(digits.y);
    expect(d.inputShape).toEqual([28, 28, 1]);
    expect(d.numClasses).toBe(10);
  });

  it.each([
    ['<f4 (float32)', '<f4', 'float', 4, true],
    ['<f8 (float64)', '<f8', 'float', 8, true],
    ['>f4 (big-endian float32)', '>f4', 'float', 4, false],
    ['>f8 (big-endian float64)', '>f8', 'float', 8, false],
    ['<i2 (int16)', '<i2', 'int', 2, true],
    ['>i4 (big-endian int32)', '>i4', 'int', 4, false],
    ['<u2 (uint16)', '<u2', 'uint', 2, true],
  ] as const)('reads x as %s into float32', async (_label, descr, kind, size, le) => {
    const values = kind === 'float' ? FEATURES : FEATURES.map((v) => Math.round(v * 10));
    const d = await parseNpy(await pair(npyFile(descr, [3, 4], packValues(values, kind, size, le)), u8y([0, 1, 2])));
    expect(d.dtype).toBe('float32');
    expect(Array.from(d.x)).toEqual(values.map(Math.fround));
    expect(d.inputShape).toEqual([4]);
  });

  it('reads float16 x', async () => {
    const half = Uint8Array.from([0x00, 0x3c, 0x00, 0x38, 0x00, 0xc0, 0x00, 0x00]); // 1, 0.5, -2, 0
    const d = await parseNpy(await pair(npyFile('<f2', [2, 2], half), u8y([0, 1])));
    expect(Array.from(d.x)).toEqual([1, 0.5, -2, 0]);
  });

  it('reads version 2.0 and 3.0 headers and 4-dimensional images', async () => {
    const x = packValues(
      Array.from({ length: 24 }, (_, i) => i),
      'float',
      4,
      true,
    );
    for (const version of [2, 3] as const) {
      const d = await parseNpy(await pair(npyFile('<f4', [2, 2, 2, 3], x, { version }), npyFile('<i4', [2], packValues([1, 0], 'int', 4, true), { version })));
      expect(d.inputShape).toEqual([2, 2, 3]);
      expect(d.stats.mean).toEqual([10.5, 11.5, 12.5]);
      expect(Array.from(d.y)).toEqual([1, 0]);
    }
  });

  it('reads gzipped arrays', async () => {
    const d = await parseNpy(await pair(gzip(f32x()), gzip(u8y([2, 0, 1]))));
    expect(Array.from(d.y)).toEqual([2, 0, 1]);
  });

  it('takes one-hot y rows, float or int', async () => {
    const oneHot = [0, 1, 0, 1, 0, 0, 0, 0, 1];
    for (const y of [npyFile('<f4', [3, 3], packValues(oneHot, 'float', 4, true)), npyFile('<i8', [3, 3], packValues(oneHot, 'int', 8, true))]) {
      const d = await parseNpy(await pair(f32x(), y));
      expect(Array.from(d.y)).toEqual([1, 0, 2]);
      expect(d.classNames).toEqual(['0', '1', '2']);
    }
  });

  it('takes string labels, sorted into classes', async () => {
    const words = ['virginica', 'setosa', 'versicolor'];
    const d = await parseNpy(await pair(f32x(), npyFile('<U10', [3], utf32Strings(words, 10))));
    expect(d.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(Array.from(d.y)).toEqual([2, 0, 1]);
    const bytes = concatBytes(...['cat', 'dog', 'cat'].map((w) => Uint8Array.from([...w, '\0', '\0'].map((c) => c.charCodeAt(0)))));
    const e = await parseNpy(await pair(f32x(), npyFile('|S5', [3], bytes)));
    expect(e.classNames).toEqual(['cat', 'dog']);
  });

  it('takes bool, whole-number float and (n, 1) column labels', async () => {
    const bool = await parseNpy(await pair(f32x(), npyFile('|b1', [3], Uint8Array.of(1, 0, 1))));
    expect(Array.from(bool.y)).toEqual([1, 0, 1]);
    const floats = await parseNpy(await pair(f32x(), npyFile('<f8', [3], packValues([2, 0, 1], 'float', 8, true))));
    expect(Array.from(floats.y)).toEqual([2, 0, 1]);
    const column = await parseNpy(await pair(f32x(), npyFile('<i4', [3, 1], packValues([1, 1, 0], 'int', 4, true))));
    expect(Array.from(column.y)).toEqual([1, 1, 0]);
  });

  it('accepts fortran_order when the layout is the same as C order', async () => {
    const d = await parseNpy(await pair(f32x(), npyFile('|u1', [3], Uint8Array.of(0, 1, 0), { fortranOrder: true })));
    expect(d.count).toBe(3);
  });
});

describe('parseNpy: broken files', () => {
  const y3 = u8y([0, 1, 2]);

  it('rejects files that are not .npy, and .npz archives', async () => {
    await expectFormatError(parseNpy(await pair(new TextEncoder().encode('a,b\n1,2\n'), y3)), 'x', 'x.npy is not a .npy file');
    await expectFormatError(
      parseNpy(await pair(f32x(), Uint8Array.of(0x50, 0x4b, 3, 4, 20, 0, 0, 0, 8))),
      'y',
      'y.npy is a zip archive (.npz?); save each array with np.save as its own .npy file',
    );
  });

  it('rejects unknown format versions and cut-off headers', async () => {
    const v4 = f32x();
    v4[6] = 4;
    await expectFormatError(parseNpy(await pair(v4, y3)), 'x', 'x.npy has .npy format version 4.0; versions 1.0, 2.0 and 3.0 are supported');
    await expectFormatError(parseNpy(await pair(f32x().subarray(0, 40), y3)), 'x', 'x.npy is truncated: its header is incomplete');
    const hugeHeader = npyFile('<f4', [3, 4], packValues(FEATURES, 'float', 4, true), { version: 2 });
    new DataView(hugeHeader.buffer, hugeHeader.byteOffset).setUint32(8, 2 << 20, true);
    await expectFormatError(parseNpy(await pair(hugeHeader, y3)), 'x', 'x.npy has a 2,097,152-byte header; at most 1,048,576 bytes are supported');
  });

  it('rejects headers it cannot read, without evaluating them', async () => {
    const body = packValues(FEATURES, 'float', 4, true);
    const cases: [string, string][] = [
      ["{'descr': '<f4', 'shape': __import__('os')}", `x.npy has an unreadable header (unexpected "_" at 26): "{'descr': '<f4', 'shape': __import__('os')}"`],
      ['[1, 2]', 'x.npy has a header that is not a dict'],
      ["{'fortran_order': False, 'shape': (3, 4)}", "x.npy header has no 'descr' string"],
      ["{'descr': '<f4', 'shape': (3, 4)}", "x.npy header has no 'fortran_order' True/False"],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4)}", "x.npy header has no 'shape' tuple of sizes"],
      ["{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,)}", 'x.npy holds a structured array (named fields); save a plain numeric array'],
    ];
    for (const [header, message] of cases) await expectFormatError(parseNpy(await pair(npyWithHeader(header, body), y3)), 'x', message);
  });

  it('rejects dtypes it cannot use, by numpy name', async () => {
    const cases: [string, string][] = [
      ['<c8', 'complex64'],
      ['<c16', 'complex128'],
      ['|O', 'object'],
      ['<U5', 'str'],
      ['<M8[ns]', 'datetime64'],
    ];
    for (const [descr, name] of cases) {
      await expectFormatError(parseNpy(await pair(npyFile(descr, [3, 4], new Uint8Array(96)), y3)), 'x', `x.npy dtype ${name} is not supported; use float32, float64 or uint8`);
    }
    await expectFormatError(
      parseNpy(await pair(f32x(), npyFile('<c16', [3], new Uint8Array(48)))),
      'y',
      'y.npy dtype complex128 is not supported; use integer class indices, strings, or one-hot rows',
    );
  });

  it('rejects Fortran-ordered matrices', async () => {
    await expectFormatError(
      parseNpy(await pair(npyFile('<f4', [3, 4], packValues(FEATURES, 'float', 4, true), { fortranOrder: true }), y3)),
      'x',
      'x.npy is stored in Fortran (column-major) order; save it with np.save(path, np.ascontiguousarray(x))',
    );
  });

  it('rejects x shapes that are not examples x features or images', async () => {
    await expectFormatError(parseNpy(await pair(f32x(FEATURES, [12]), y3)), 'x', 'x.npy must have at least 2 dimensions (examples, features), got shape (12,)');
    await expectFormatError(parseNpy(await pair(f32x(FEATURES, [3, 1, 2, 2, 1]), y3)), 'x', 'x.npy has 5 dimensions; at most 4 (examples, height, width, channels) are supported');
    await expectFormatError(parseNpy(await pair(f32x([], [0, 4]), u8y([]))), 'x', 'x.npy holds no data (shape (0, 4))');
  });

  it('rejects y shapes that are neither labels nor one-hot rows', async () => {
    const message = (shape: string) => `y.npy must have shape (n,) of class labels or (n, classes) of one-hot rows, got ${shape}`;
    await expectFormatError(parseNpy(await pair(f32x(), npyFile('|u1', [3, 1, 1], new Uint8Array(3)))), 'y', message('(3, 1, 1)'));
    await expectFormatError(parseNpy(await pair(f32x(), npyFile('<U1', [3, 1], utf32Strings(['a', 'b', 'c'], 1)))), 'y', message('(3, 1)'));
  });

  it('rejects x and y of different lengths', async () => {
    const x = npyFile('<f4', [100, 4], new Uint8Array(1600));
    await expectFormatError(parseNpy(await pair(x, u8y(Array.from({ length: 99 }, (_, i) => i % 2)))), 'y', 'x.npy has 100 examples, y.npy 99');
  });

  it('rejects data shorter or longer than the header says, raw and gzipped', async () => {
    const full = f32x();
    const short = full.subarray(0, full.length - 8);
    const long = concatBytes(full, new Uint8Array(12));
    const truncated = 'x.npy is truncated: shape (3, 4) float32 is 48 bytes of data but the file has 40';
    const longer = 'x.npy is longer than its header says: shape (3, 4) float32 is 48 bytes of data but the file has 60';
    await expectFormatError(parseNpy(await pair(short, y3)), 'x', truncated);
    await expectFormatError(parseNpy(await pair(gzip(short), y3)), 'x', `${truncated} (decompressed)`);
    await expectFormatError(parseNpy(await pair(long, y3)), 'x', longer);
    await expectFormatError(parseNpy(await pair(gzip(long), y3)), 'x', `${longer} (decompressed)`);
  });

  it('rejects labels that are not class indices', async () => {
    await expectFormatError(
      parseNpy(await pair(f32x(), npyFile('<f4', [3], packValues([0, 0.5, 1], 'float', 4, true)))),
      'y',
      'y.npy has 0.5 at index 1; class labels must be whole numbers from 0',
    );
    await expectFormatError(
      parseNpy(await pair(f32x(), npyFile('<i2', [3], packValues([0, 1, -3], 'int', 2, true)))),
      'y',
      'y.npy has -3 at index 2; class labels must be whole numbers from 0',
    );
  });

  it('rejects rows that are not one-hot', async () => {
    const y = npyFile('<f4', [3, 3], packValues([0, 1, 0, 0, 0.5, 0.5, 1, 0, 0], 'float', 4, true));
    await expectFormatError(parseNpy(await pair(f32x(), y)), 'y', 'y.npy[1] is not one-hot (values 0, 0.5, 0.5)');
    const twoOnes = npyFile('|u1', [3, 2], Uint8Array.of(0, 1, 1, 1, 1, 0));
    await expectFormatError(parseNpy(await pair(f32x(), twoOnes)), 'y', 'y.npy[1] is not one-hot (values 1, 1)');
  });

  it('rejects empty and over-long string labels', async () => {
    await expectFormatError(parseNpy(await pair(f32x(), npyFile('<U3', [3], utf32Strings(['a', 'b', ''], 3)))), 'y', 'y.npy[2] is an empty string');
    await expectFormatError(
      parseNpy(await pair(f32x(), npyFile('<U300', [3], new Uint8Array(3600)))),
      'y',
      'y.npy holds strings of up to 1,200 bytes; labels must be shorter than 256 characters',
    );
  });

  it('rejects a single class', async () => {
    await expectFormatError(parseNpy(await pair(f32x(), u8y([4, 4, 4]))), 'y', 'y.npy has 1 class (4); at least 2 are needed');
    await expectFormatError(parseNpy(await pair(f32x(), npyFile('<U3', [3], utf32Strings(['cat', 'cat', 'cat'], 3)))), 'y', 'y.npy has 1 class (cat); at least 2 are needed');
  });

  it('rejects NaN and infinity in x', async () => {
    const values = FEATURES.map((v, i) => (i === 9 ? Infinity : v));
    await expectFormatError(parseNpy(await pair(f32x(values), y3)), 'x', 'x.npy has a non-finite value (Infinity) in example 2');
  });

  it('enforces the size limits before reading data', async () => {
    const files = await pair(f32x(), y3);
    await expectFormatError(parseNpy({ ...files, maxExamples: 2 }), 'x', 'x.npy has 3 examples; at most 2 are allowed');
    await expectFormatError(parseNpy({ ...files, maxValues: 10 }), 'x', 'the dataset would hold 12 values (3 examples of 4); at most 10 are allowed');
    await expectFormatError(
      parseNpy({ ...(await pair(f32x(), u8y([0, 12, 1]))), maxClasses: 10 }),
      'y',
      'y.npy has values up to 12 but at most 10 classes are allowed (labels 0 to 9)',
    );
    const oneHot = npyFile('|u1', [3, 3], Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1));
    await expectFormatError(parseNpy({ ...(await pair(f32x(), oneHot)), maxClasses: 2 }), 'y', 'y.npy has 3 one-hot columns; at most 2 classes are allowed');
    const narrowX = f32x(FEATURES.slice(0, 6), [3, 2]);
    await expectFormatError(parseNpy({ ...(await pair(narrowX, oneHot)), maxValues: 8 }), 'y', 'y.npy has 9 values; at most 8 are allowed');
    const words = npyFile('<U1', [3], utf32Strings(['a', 'b', 'c'], 1));
    await expectFormatError(parseNpy({ ...(await pair(f32x(), words)), maxClasses: 2 }), 'y', 'y.npy has more than 2 distinct labels; at most 2 classes are allowed');
  });

  it('refuses a wide x from its header, before reading or allocating the data', async () => {
    // Shape (20, 100000) is only 2,000,000 values, well under maxValues; the header alone decides (no body follows).
    const wide = npyFile('<f4', [20, 100_000], new Uint8Array(0));
    const labels = u8y(Array.from({ length: 20 }, (_, i) => i % 2));
    await expectFormatError(parseNpy(await pair(wide, labels)), 'x', 'x.npy has 100,000 features; at most 65,536 are allowed');
    const deep = npyFile('<f4', [20, 1, 1, 100_000], new Uint8Array(0));
    await expectFormatError(parseNpy(await pair(deep, labels)), 'x', 'x.npy has 100,000 channels (examples of 1x1x100,000); at most 65,536 are allowed');
  });

  it('takes exactly maxFeatures features and refuses one more', async () => {
    const d = await parseNpy({ ...(await pair(f32x(), y3)), maxFeatures: 4 });
    expect(d.inputShape).toEqual([4]);
    expect(Array.from(d.x)).toEqual(FEATURES.map(Math.fround));
    await expectFormatError(parseNpy({ ...(await pair(f32x(), y3)), maxFeatures: 3 }), 'x', 'x.npy has 4 features; at most 3 are allowed');
    const images = npyFile('|u1', [3, 1, 2, 2], new Uint8Array(12));
    expect((await parseNpy({ ...(await pair(images, y3)), maxFeatures: 2 })).inputShape).toEqual([1, 2, 2]);
    await expectFormatError(parseNpy({ ...(await pair(images, y3)), maxFeatures: 1 }), 'x', 'x.npy has 2 channels (examples of 1x2x2); at most 1 are allowed');
  });
});
