import { zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageZip } from '../../src/data/parsers/image-zip.parser.js';
import { centralEntryOffset, concatBytes, createScratch, expectFormatError, greyToRgba, jpegFile, mnistBytes, pngFile, solidRgba, toZip64 } from './fixtures.js';

let scratch: Awaited<ReturnType<typeof createScratch>>;
let digits: { x: Uint8Array; y: Uint8Array };
let n = 0;
const write = (data: Uint8Array) => scratch.write(`z${n++}.zip`, data);
const zip = (files: Zippable) => write(zipSync(files));
const gray = { width: 28, height: 28, channels: 1 as const };

/** The i-th MNIST digit as pixels and as a grey PNG. */
const digit = (i: number) => digits.x.subarray(i * 784, (i + 1) * 784);
const digitPng = (i: number) => pngFile(28, 28, greyToRgba(digit(i)), 0);
const indicesOf = (label: number, count: number) =>
  Array.from(digits.y.keys())
    .filter((i) => digits.y[i] === label)
    .slice(0, count);

const RED = pngFile(2, 2, solidRgba(2, 2, [255, 0, 0]), 2);
const BLUE = pngFile(2, 2, solidRgba(2, 2, [0, 0, 255]), 2);

beforeAll(async () => {
  scratch = await createScratch();
  digits = await mnistBytes(300);
});
afterAll(() => scratch.remove());

describe('parseImageZip: archives of class folders', () => {
  it('reads real MNIST digit PNGs inside a wrapper folder, pixel for pixel', async () => {
    const threes = indicesOf(3, 5);
    const sevens = indicesOf(7, 4);
    const files: Zippable = { 'digits/': new Uint8Array(0), 'digits/3/': new Uint8Array(0) };
    threes.forEach((i) => (files[`digits/3/${i}.png`] = digitPng(i)));
    sevens.forEach((i) => (files[`digits/7/img-${i}.PNG`] = digitPng(i)));
    const d = await parseImageZip({ file: await zip(files), ...gray });
    expect(d.dtype).toBe('uint8');
    expect(d.inputShape).toEqual([28, 28, 1]);
    expect(d.classNames).toEqual(['3', '7']);
    expect(d.count).toBe(9);
    expect(d.stats.perClassCounts).toEqual([5, 4]);
    // Examples follow class, then path order: 3/<i>.png sorted as strings.
    const expected = [
      ...threes.map((i) => ({ i, key: `${i}.png` })).sort((a, b) => (a.key < b.key ? -1 : 1)),
      ...sevens.map((i) => ({ i, key: `img-${i}.PNG` })).sort((a, b) => (a.key < b.key ? -1 : 1)),
    ];
    expected.forEach(({ i }, row) => expect(Array.from(d.x.subarray(row * 784, (row + 1) * 784))).toEqual(Array.from(digit(i))));
    expect(Array.from(d.y)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('mixes PNG and JPEG, detected by content rather than extension', async () => {
    const jpegDigit = jpegFile(28, 28, greyToRgba(digit(0)), 100);
    const d = await parseImageZip({
      file: await zip({ 'a/photo.png': jpegDigit, 'a/other.jpg': digitPng(1), 'b/x.jpeg': digitPng(2) }),
      ...gray,
    });
    expect(d.count).toBe(3);
    // x holds a/other.jpg (the PNG, exact) then a/photo.png (the JPEG, close).
    expect(Array.from(d.x.subarray(0, 784))).toEqual(Array.from(digit(1)));
    const err = Array.from(d.x.subarray(784, 1568)).reduce((worst, v, k) => Math.max(worst, Math.abs(v - digit(0)[k])), 0);
    expect(err).toBeLessThan(12);
  });

  it('ignores __MACOSX, dotfiles, hidden folders and Thumbs.db', async () => {
    const d = await parseImageZip({
      file: await zip({
        '__MACOSX/cat/._a.png': new Uint8Array(10),
        '.DS_Store': new Uint8Array(10),
        'cat/a.png': RED,
        'cat/.DS_Store': new Uint8Array(10),
        'cat/Thumbs.db': new Uint8Array(10),
        'dog/b.png': BLUE,
        '.git/objects/x': new Uint8Array(3),
        'dog/.hidden/c.png': new Uint8Array(3),
      }),
      width: 2,
      height: 2,
      channels: 3,
    });
    expect(d.classNames).toEqual(['cat', 'dog']);
    expect(d.count).toBe(2);
  });

  it('orders classes by name, numbers numerically, whatever the entry order', async () => {
    const d = await parseImageZip({ file: await zip({ '10/a.png': RED, 'b/a.png': RED, '2/a.png': BLUE, 'A/a.png': BLUE }), width: 1, height: 1, channels: 3 });
    expect(d.classNames).toEqual(['2', '10', 'A', 'b']);
    expect(Array.from(d.x)).toEqual([0, 0, 255, 255, 0, 0, 0, 0, 255, 255, 0, 0]);
  });

  it('converts to luma for 1 channel, drops alpha and expands grey for 3 channels', async () => {
    const file = await zip({
      'red/a.png': RED,
      'green/a.png': pngFile(2, 2, solidRgba(2, 2, [0, 255, 0, 10]), 6),
      'blue/a.png': BLUE,
      'grey/a.png': pngFile(2, 2, solidRgba(2, 2, [90, 90, 90]), 0),
    });
    const luma = await parseImageZip({ file, width: 2, height: 2, channels: 1 });
    expect(luma.classNames).toEqual(['blue', 'green', 'grey', 'red']);
    expect(Array.from(luma.x)).toEqual([29, 29, 29, 29, 150, 150, 150, 150, 90, 90, 90, 90, 76, 76, 76, 76]);
    const rgb = await parseImageZip({ file, width: 1, height: 1, channels: 3 });
    expect(Array.from(rgb.x)).toEqual([0, 0, 255, 0, 255, 0, 90, 90, 90, 255, 0, 0]);
    expect(rgb.stats.mean).toEqual([345 / 4, 345 / 4, 345 / 4]);
  });

  it('resizes each image to the requested size', async () => {
    const big = jpegFile(64, 48, solidRgba(64, 48, [200, 100, 50]), 95);
    const d = await parseImageZip({ file: await zip({ 'orange/a.jpg': big, 'blue/b.png': BLUE }), width: 5, height: 3, channels: 3 });
    expect(d.inputShape).toEqual([3, 5, 3]);
    const orange = Array.from(d.x.subarray(45));
    for (let k = 0; k < orange.length; k += 3) {
      expect(Math.abs(orange[k] - 200)).toBeLessThanOrEqual(3);
      expect(Math.abs(orange[k + 1] - 100)).toBeLessThanOrEqual(3);
      expect(Math.abs(orange[k + 2] - 50)).toBeLessThanOrEqual(3);
    }
  });

  it('reads stored entries, backslash paths and ZIP64 archives', async () => {
    const files = { 'cat\\a.png': RED, 'dog\\b.png': BLUE };
    const stored = zipSync(files, { level: 0 });
    for (const bytes of [stored, toZip64(stored), toZip64(zipSync(files))]) {
      const d = await parseImageZip({ file: await write(bytes), width: 1, height: 1, channels: 3 });
      expect(d.classNames).toEqual(['cat', 'dog']);
      expect(Array.from(d.x)).toEqual([255, 0, 0, 0, 0, 255]);
    }
  });
});

describe('parseImageZip: broken archives', () => {
  const two = { width: 2, height: 2, channels: 3 as const };
  const patched = async (files: Zippable, name: string, patch: (view: DataView, entry: number) => void) => {
    const bytes = zipSync(files);
    patch(new DataView(bytes.buffer), centralEntryOffset(bytes, name));
    return write(bytes);
  };

  it('rejects files that are not zip archives, or are cut off', async () => {
    const message = 'the file is not a zip archive (or it is truncated)';
    await expectFormatError(parseImageZip({ file: await write(RED), ...two }), 'file', message);
    const whole = zipSync({ 'a/x.png': RED, 'b/y.png': BLUE });
    await expectFormatError(parseImageZip({ file: await write(whole.subarray(0, whole.length - 30)), ...two }), 'file', message);
  });

  it('rejects an archive without class folders', async () => {
    const message = 'the archive has no class folders; put the images of each class in a folder named after the class';
    await expectFormatError(parseImageZip({ file: await zip({}), ...two }), 'file', message);
    await expectFormatError(parseImageZip({ file: await zip({ 'a.png': RED, 'b.png': BLUE }), ...two }), 'file', message);
  });

  it('rejects an image outside any class folder', async () => {
    await expectFormatError(
      parseImageZip({ file: await zip({ 'cat/a.png': RED, 'dog/b.png': BLUE, 'extra.png': RED }), ...two }),
      'file',
      'extra.png is not in a class folder; put the images of each class in a folder named after the class',
    );
  });

  it.each([
    ['/abs/0/y.png', 'the archive entry "/abs/0/y.png" has an absolute path; entries must be paths inside the archive, like "7/img1.png"'],
    ['C:/0/y.png', 'the archive entry "C:/0/y.png" has an absolute path; entries must be paths inside the archive, like "7/img1.png"'],
    ['../0/y.png', `the archive entry "../0/y.png" climbs out of the archive with '..'; entries must be paths inside the archive, like "7/img1.png"`],
    ['cat/../../y.png', `the archive entry "cat/../../y.png" climbs out of the archive with '..'; entries must be paths inside the archive, like "7/img1.png"`],
  ])('rejects the entry %s, naming it, instead of reading it as a class or skipping it', async (name, message) => {
    // fflate keeps entry names as given, so the archive holds exactly this name.
    await expectFormatError(parseImageZip({ file: await zip({ 'cat/a.png': RED, 'dog/b.png': BLUE, [name]: RED }), ...two }), 'file', message);
  });

  it('rejects a file that is not a PNG or JPEG', async () => {
    const gif = new TextEncoder().encode('GIF89a\u0001\u0000\u0001\u0000');
    await expectFormatError(
      parseImageZip({ file: await zip({ 'images/cat/a.png': RED, 'images/cat/x.gif': gif, 'images/dog/b.png': BLUE }), ...two }),
      'file',
      'images/cat/x.gif is not a PNG or JPEG image',
    );
  });

  it("rejects images that cannot be decoded, with the decoder's reason", async () => {
    const png = digitPng(0);
    await expectFormatError(
      parseImageZip({ file: await zip({ 'images/cat/a.png': RED, 'images/dog/broken.png': png.subarray(0, 200) }), ...two }),
      'file',
      'images/dog/broken.png cannot be decoded: the file is truncated',
    );
    const flipped = png.slice();
    flipped[100] ^= 0x55;
    await expectFormatError(
      parseImageZip({ file: await zip({ 'cat/a.png': RED, 'dog/flipped.png': flipped }), ...two }),
      'file',
      'dog/flipped.png cannot be decoded: the file is damaged (unrecognised content at end of stream)',
    );
    const jpeg = jpegFile(8, 8, solidRgba(8, 8, [1, 2, 3]));
    const badJpeg = concatBytes(jpeg.subarray(0, 4), new Uint8Array(40).fill(0x11), jpeg.subarray(44));
    const err = await parseImageZip({ file: await zip({ 'cat/a.png': RED, 'dog/bad.jpg': badJpeg }), ...two }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^dog\/bad\.jpg cannot be decoded: .+/);
  });

  it('rejects images too large to decode before decoding them', async () => {
    const huge = pngFile(2, 2, solidRgba(2, 2, [1, 1, 1]), 2);
    const view = new DataView(huge.buffer, huge.byteOffset, huge.byteLength);
    view.setUint32(16, 10_000);
    view.setUint32(20, 10_000);
    await expectFormatError(
      parseImageZip({ file: await zip({ 'cat/a.png': RED, 'dog/huge.png': huge }), ...two }),
      'file',
      'dog/huge.png cannot be decoded: it is 10000x10000 pixels; at most 50 megapixels are supported',
    );
  });

  it('rejects a class folder without images', async () => {
    await expectFormatError(
      parseImageZip({
        file: await zip({ 'images/cat/a.png': RED, 'images/dog/b.png': BLUE, 'images/bird/': new Uint8Array(0), 'images/bird/.DS_Store': new Uint8Array(4) }),
        ...two,
      }),
      'file',
      "class 'bird' has no images",
    );
  });

  it('rejects a single class', async () => {
    await expectFormatError(parseImageZip({ file: await zip({ 'cat/a.png': RED, 'cat/b.png': BLUE }), ...two }), 'file', "the archive has 1 class ('cat'); at least 2 are needed");
  });

  it('rejects bad size and channel options', async () => {
    const file = await zip({ 'cat/a.png': RED, 'dog/b.png': BLUE });
    await expectFormatError(parseImageZip({ file, ...two, width: 0 }), 'width', 'width must be a whole number from 1 to 1,024, got 0');
    await expectFormatError(parseImageZip({ file, ...two, height: 2.5 }), 'height', 'height must be a whole number from 1 to 1,024, got 2.5');
    await expectFormatError(parseImageZip({ file, ...two, channels: 4 as 3 }), 'channels', 'channels must be 1 (grayscale) or 3 (RGB), got 4');
  });

  it('enforces example, value, class and file-size limits before decoding', async () => {
    const file = await zip({ 'cat/a.png': RED, 'cat/c.png': RED, 'dog/b.png': BLUE });
    await expectFormatError(parseImageZip({ file, ...two, maxExamples: 2 }), 'file', 'the archive has 3 examples; at most 2 are allowed');
    await expectFormatError(parseImageZip({ file, ...two, maxValues: 20 }), 'file', 'the dataset would hold 36 values (3 examples of 2x2x3); at most 20 are allowed');
    await expectFormatError(parseImageZip({ file, ...two, maxClasses: 1 }), 'file', 'the archive has 2 class folders; at most 1 are allowed');
    await expectFormatError(parseImageZip({ file, ...two, maxFileBytes: 50 }), 'file', `cat/a.png is ${RED.length} bytes; at most 50 are allowed per file`);
  });

  it('rejects encrypted entries and compression methods it cannot inflate', async () => {
    const files = { 'cat/a.png': RED, 'dog/b.png': BLUE };
    const encrypted = await patched(files, 'dog/b.png', (v, e) => v.setUint16(e + 8, v.getUint16(e + 8, true) | 1, true));
    await expectFormatError(parseImageZip({ file: encrypted, ...two }), 'file', 'dog/b.png is encrypted; upload an archive without a password');
    const lzma = await patched(files, 'cat/a.png', (v, e) => v.setUint16(e + 10, 14, true));
    await expectFormatError(parseImageZip({ file: lzma, ...two }), 'file', 'cat/a.png is compressed with method 14 (LZMA); only stored and deflate entries are supported');
  });

  it('rejects an entry whose data does not match its checksum', async () => {
    const file = await patched({ 'cat/a.png': RED, 'dog/b.png': BLUE }, 'dog/b.png', (v, e) => v.setUint32(e + 16, v.getUint32(e + 16, true) ^ 1, true));
    await expectFormatError(parseImageZip({ file, ...two }), 'file', 'dog/b.png cannot be decoded: its data does not match its checksum');
  });

  it('rejects split and damaged archives', async () => {
    const bytes = zipSync({ 'cat/a.png': RED, 'dog/b.png': BLUE });
    const eocd = bytes.length - 22;
    const split = bytes.slice();
    new DataView(split.buffer).setUint16(eocd + 4, 1, true);
    await expectFormatError(parseImageZip({ file: await write(split), ...two }), 'file', 'the archive is split into several parts; upload it as a single .zip file');
    const outside = bytes.slice();
    new DataView(outside.buffer).setUint32(eocd + 16, bytes.length, true);
    await expectFormatError(parseImageZip({ file: await write(outside), ...two }), 'file', 'the archive is damaged: its directory lies outside the file');
    const garbled = bytes.slice();
    const cd = new DataView(garbled.buffer).getUint32(eocd + 16, true);
    garbled[cd] = 0;
    await expectFormatError(parseImageZip({ file: await write(garbled), ...two }), 'file', 'the archive is damaged: directory entry 1 is unreadable');
  });

  it('rejects damaged directories and entries', async () => {
    const files = { 'cat/a.png': RED, 'dog/b.png': BLUE };
    const bytes = zipSync(files);
    const eocd = bytes.length - 22;
    const damaged = async (mutate: (view: DataView, copy: Uint8Array) => void) => {
      const copy = bytes.slice();
      mutate(new DataView(copy.buffer), copy);
      return parseImageZip({ file: await write(copy), ...two });
    };
    await expectFormatError(
      damaged((v) => v.setUint32(eocd + 12, 0x20000000, true)),
      'file',
      'the archive is damaged: its directory is 536,870,912 bytes',
    );
    await expectFormatError(
      damaged((v) => v.setUint16(eocd + 10, 0xffff, true)),
      'file',
      'the archive is damaged: the ZIP64 locator is missing',
    );
    await expectFormatError(
      damaged((v) => v.setUint32(centralEntryOffset(bytes, 'cat/a.png') + 24, 0xffffffff, true)),
      'file',
      'the archive is damaged: directory entry 1 has a missing or short ZIP64 field',
    );
    await expectFormatError(
      damaged((v) => v.setUint32(v.getUint32(centralEntryOffset(bytes, 'dog/b.png') + 42, true), 0, true)),
      'file',
      'dog/b.png cannot be decoded: the archive is damaged (no local header)',
    );
    await expectFormatError(
      damaged((v) => v.setUint32(centralEntryOffset(bytes, 'dog/b.png') + 20, bytes.length, true)),
      'file',
      'dog/b.png cannot be decoded: the archive is truncated',
    );
    const zip64 = toZip64(bytes);
    const locatorAt = zip64.length - 22 - 20;
    const noRecord = zip64.slice();
    new DataView(noRecord.buffer).setBigUint64(locatorAt + 8, 0n, true);
    await expectFormatError(parseImageZip({ file: await write(noRecord), ...two }), 'file', 'the archive is damaged: the ZIP64 directory record is missing');
  });
});
