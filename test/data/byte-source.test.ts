import { describe, expect, it } from 'vitest';
import { ChunkReader, readElements, type ElementType } from '../../src/data/parsers/byte-source.js';
import { createRng } from '../../src/data/random.js';
import { packValues } from './fixtures.js';

/** `bytes` cut into chunks of 1 to 13 bytes, so elements straddle chunk boundaries. */
async function* chunked(bytes: Uint8Array, seed: number): AsyncGenerator<Uint8Array> {
  const rng = createRng(seed);
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(rng() * 13);
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

describe('readElements', () => {
  const types: [ElementType['kind'], ElementType['size'], (i: number) => number][] = [
    ['uint', 1, (i) => i % 256],
    ['int', 1, (i) => (i % 256) - 128],
    ['uint', 2, (i) => i * 61],
    ['int', 2, (i) => i * 31 - 16_000],
    ['uint', 4, (i) => i * 4_000_003],
    ['int', 4, (i) => i * 2_000_003 - 1_000_000_000],
    ['uint', 8, (i) => i * 2 ** 40 + 7],
    ['int', 8, (i) => -i * 2 ** 40 - 7],
    ['float', 4, (i) => Math.fround(i / 3 - 50)],
    ['float', 8, (i) => i / 3 - 50],
  ];
  for (const [kind, size, value] of types) {
    for (const littleEndian of [true, false]) {
      it(`decodes ${kind}${size * 8} ${littleEndian ? 'little' : 'big'}-endian split anywhere`, async () => {
        const values = Array.from({ length: 500 }, (_, i) => value(i));
        const out = new Float64Array(500);
        const seen = await readElements(chunked(packValues(values, kind, size, littleEndian), size), { kind, size, littleEndian }, out);
        expect(seen).toBe(500 * size);
        expect(Array.from(out)).toEqual(values);
      });
    }
  }

  it('copies same-layout data straight into the output, whatever the chunking', async () => {
    const values = Array.from({ length: 300 }, (_, i) => Math.fround(i * 1.5));
    const out = new Float32Array(300);
    await readElements(chunked(packValues(values, 'float', 4, true), 9), { kind: 'float', size: 4, littleEndian: true }, out);
    expect(Array.from(out)).toEqual(values);
  });

  it('counts bytes past the output without storing them, up to a limit', async () => {
    const out = new Uint8Array(10);
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
    expect(await readElements(chunked(bytes, 1), { kind: 'uint', size: 1, littleEndian: true }, out)).toBe(100);
    expect(Array.from(out)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const stopped = await readElements(chunked(bytes, 1), { kind: 'uint', size: 1, littleEndian: true }, new Uint8Array(10), 30);
    expect(stopped).toBeGreaterThan(30);
    expect(stopped).toBeLessThan(50);
  });
});

describe('ChunkReader', () => {
  it('reads exact byte counts across chunks, then hands over the rest', async () => {
    const bytes = Uint8Array.from({ length: 50 }, (_, i) => i);
    const reader = new ChunkReader(chunked(bytes, 4));
    expect(Array.from(await reader.read(3))).toEqual([0, 1, 2]);
    expect(Array.from(await reader.read(20))).toEqual(Array.from({ length: 20 }, (_, i) => i + 3));
    const rest: number[] = [];
    for await (const chunk of reader.rest()) rest.push(...chunk);
    expect(rest).toEqual(Array.from({ length: 27 }, (_, i) => i + 23));
    expect(reader.consumed).toBe(50);
    expect((await reader.read(5)).length).toBe(0);
  });

  it('returns fewer bytes only at the end of the data', async () => {
    const reader = new ChunkReader(chunked(Uint8Array.of(1, 2, 3), 2));
    expect(Array.from(await reader.read(8))).toEqual([1, 2, 3]);
  });
});
