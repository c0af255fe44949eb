import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/data/parsers/csv.parser.js';
import { CsvRecordReader, MAX_COUNTED_FIELDS, MAX_FIELD_CHARS } from '../../src/data/parsers/csv-records.js';
import { createScratch, expectFormatError, gzip } from './fixtures.js';

/** Rows of Fisher's iris data (the first four of each species). */
const IRIS_ROWS = [
  [5.1, 3.5, 1.4, 0.2, 'setosa'],
  [4.9, 3.0, 1.4, 0.2, 'setosa'],
  [4.7, 3.2, 1.3, 0.2, 'setosa'],
  [4.6, 3.1, 1.5, 0.2, 'setosa'],
  [7.0, 3.2, 4.7, 1.4, 'versicolor'],
  [6.4, 3.2, 4.5, 1.5, 'versicolor'],
  [6.9, 3.1, 4.9, 1.5, 'versicolor'],
  [5.5, 2.3, 4.0, 1.3, 'versicolor'],
  [6.3, 3.3, 6.0, 2.5, 'virginica'],
  [5.8, 2.7, 5.1, 1.9, 'virginica'],
  [7.1, 3.0, 5.9, 2.1, 'virginica'],
  [6.3, 2.9, 5.6, 1.8, 'virginica'],
] as const;
const IRIS_HEADER = 'sepal_length,sepal_width,petal_length,petal_width,species';
const irisCsv = (rows: readonly (readonly (string | number)[])[] = IRIS_ROWS, eol = '\n') => [IRIS_HEADER, ...rows.map((r) => r.join(','))].join(eol) + eol;

/** Value of row `r`, feature `c` in {@link wideCsv}: small and exact in float32. */
const wideValue = (r: number, c: number) => ((r * 31 + c) % 997) / 4;
/** `features` numeric columns `f0..` and a `label` column alternating a/b. */
const wideCsv = (features: number, rows: number) => {
  const header = [...Array.from({ length: features }, (_, c) => `f${c}`), 'label'].join(',');
  const lines = Array.from({ length: rows }, (_, r) => [...Array.from({ length: features }, (_, c) => wideValue(r, c)), r % 2 ? 'b' : 'a'].join(','));
  return `${[header, ...lines].join('\n')}\n`;
};

let scratch: Awaited<ReturnType<typeof createScratch>>;
let n = 0;
const write = (text: string | Uint8Array) => scratch.write(`t${n++}.csv`, text);

beforeAll(async () => {
  scratch = await createScratch();
});
afterAll(() => scratch.remove());

describe('parseCsv: tables', () => {
  it('reads an iris table with string labels in sorted order', async () => {
    const d = await parseCsv({ file: await write(irisCsv()) });
    expect(d.dtype).toBe('float32');
    expect(d.count).toBe(12);
    expect(d.inputShape).toEqual([4]);
    expect(d.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(Array.from(d.y)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(Array.from(d.x.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
    expect(d.stats.perClassCounts).toEqual([4, 4, 4]);
    expect(d.stats.mean).toHaveLength(4);
    expect(d.stats.mean[2]).toBeCloseTo(IRIS_ROWS.reduce((s, r) => s + r[2], 0) / 12, 5);
    expect([d.stats.min, d.stats.max]).toEqual([Math.fround(0.2), Math.fround(7.1)]);
  });

  it('gives the same classes whatever the row order', async () => {
    const d = await parseCsv({ file: await write(irisCsv([...IRIS_ROWS].reverse())) });
    expect(d.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(Array.from(d.y)).toEqual([2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it('takes the label column by name from anywhere in the row', async () => {
    const text = 'species,a,b\nx,1,2\ny,3,4\n';
    const d = await parseCsv({ file: await write(text), labelColumn: 'species' });
    expect(Array.from(d.x)).toEqual([1, 2, 3, 4]);
    expect(d.classNames).toEqual(['x', 'y']);
  });

  it('keeps numeric labels 0..K-1 as their own class indices', async () => {
    const text = 'f1,f2,digit\n0.5,1,2\n0.25,2,0\n1e-3,3,1\n-4,4,2.0\n';
    const d = await parseCsv({ file: await write(text) });
    expect(d.classNames).toEqual(['0', '1', '2']);
    expect(Array.from(d.y)).toEqual([2, 0, 1, 2]);
    expect(Array.from(d.x)).toEqual([0.5, 1, 0.25, 2, 1e-3, 3, -4, 4].map(Math.fround));
  });

  it('orders other numeric labels numerically and names them', async () => {
    const d = await parseCsv({ file: await write('v,grade\n1,10\n2,2\n3,5\n4,10\n') });
    expect(d.classNames).toEqual(['2', '5', '10']);
    expect(Array.from(d.y)).toEqual([2, 0, 1, 2]);
  });

  it('handles quotes, CRLF, a BOM, blank lines and a missing final newline', async () => {
    const text = '\uFEFF"a","b , c",label\r\n' + '"1.5", 2 ,"Iris ""setosa"", wild"\r\n' + '\r\n' + '3,4,"two\r\nlines"\r\n' + '5,6,"Iris ""setosa"", wild"';
    const d = await parseCsv({ file: await write(text) });
    expect(Array.from(d.x)).toEqual([1.5, 2, 3, 4, 5, 6]);
    expect(d.classNames).toEqual(['Iris "setosa", wild', 'two\r\nlines']);
    expect(Array.from(d.y)).toEqual([0, 1, 0]);
  });

  it('skips blank lines before the header, still counting them as rows', async () => {
    await expectFormatError(parseCsv({ file: await write('\n\na,label\nz,x\n') }), 'file', 'row 4: column \'a\' is not a number (got "z")');
  });

  it('reads tab- and semicolon-separated files', async () => {
    const tsv = await parseCsv({ file: await write('a\tb\tlabel\n1\t2\tx\n3\t4\ty\n') });
    const ssv = await parseCsv({ file: await write('a;b;label\n1;2;x\n3;4;y\n') });
    expect(Array.from(tsv.x)).toEqual([1, 2, 3, 4]);
    expect(Array.from(ssv.x)).toEqual([1, 2, 3, 4]);
  });

  it('reads a gzipped file and one that spans many read chunks', async () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => [i / 7, -i, (i * 31) % 97, i % 3 === 0 ? 'tri' : 'other']);
    const text = ['x,y,z,kind', ...rows.map((r) => r.join(','))].join('\r\n');
    expect(text.length).toBeGreaterThan(1 << 20);
    for (const file of [await write(text), await write(gzip(new TextEncoder().encode(text)))]) {
      const d = await parseCsv({ file });
      expect(d.count).toBe(40_000);
      expect(d.x[3 * 39_999]).toBe(Math.fround(39_999 / 7));
      expect(d.stats.perClassCounts).toEqual([26_666, 13_334]);
    }
  });
});

describe('parseCsv: wide tables', () => {
  it('refuses the reported upload (100,000 columns, 20 numeric rows) from its header', async () => {
    const text = wideCsv(99_999, 20);
    expect(text.length).toBeGreaterThan(4_000_000);
    await expectFormatError(
      parseCsv({ file: await write(text) }),
      'file',
      'the header has 100,000 columns (99,999 features and a label); at most 65,536 feature columns are allowed',
    );
  });

  it('reads that file when maxFeatures allows it, allocating only for its 20 rows', async () => {
    const d = await parseCsv({ file: await write(wideCsv(99_999, 20)), maxFeatures: 100_000 });
    expect(d.count).toBe(20);
    expect(d.inputShape).toEqual([99_999]);
    expect(d.x.byteLength).toBe(20 * 99_999 * 4);
    expect(d.x.buffer.byteLength).toBe(20 * 99_999 * 4);
    for (const [r, c] of [
      [0, 0],
      [7, 12_345],
      [19, 99_998],
    ])
      expect(d.x[r * 99_999 + c]).toBe(wideValue(r, c));
    expect(d.stats.mean).toHaveLength(99_999);
  });

  it('reads 2,000 features x 20 rows, under the default limit, value for value', async () => {
    const d = await parseCsv({ file: await write(wideCsv(2_000, 20)) });
    expect(d.count).toBe(20);
    expect(d.inputShape).toEqual([2_000]);
    expect(d.x.length).toBe(40_000);
    const expected = Float32Array.from({ length: 40_000 }, (_, i) => wideValue(Math.floor(i / 2_000), i % 2_000));
    expect(d.x).toEqual(expected);
    expect(d.classNames).toEqual(['a', 'b']);
    expect(Array.from(d.y)).toEqual(Array.from({ length: 20 }, (_, r) => r % 2));
  });

  it('takes exactly maxFeatures feature columns and refuses one more, wherever the label is', async () => {
    const at = await parseCsv({ file: await write(wideCsv(30, 3)), maxFeatures: 30 });
    expect(at.inputShape).toEqual([30]);
    expect(at.x[2 * 30 + 29]).toBe(wideValue(2, 29));
    const over = await write(wideCsv(31, 3));
    const message = 'the header has 32 columns (31 features and a label); at most 30 feature columns are allowed';
    await expectFormatError(parseCsv({ file: over, maxFeatures: 30 }), 'file', message);
    await expectFormatError(parseCsv({ file: over, maxFeatures: 30, labelColumn: 'f0' }), 'file', message);
    // The header is refused before any row is read: the rows here are broken.
    await expectFormatError(
      parseCsv({ file: await write('a,b,c,label\nnot,numbers\n'), maxFeatures: 2 }),
      'file',
      'the header has 4 columns (3 features and a label); at most 2 feature columns are allowed',
    );
  });

  it('grows by rows, within maxValues, for a tall table', async () => {
    const d = await parseCsv({ file: await write(wideCsv(3, 70_000)), maxValues: 210_000 });
    expect(d.count).toBe(70_000);
    expect(d.x.length).toBe(210_000);
    expect(d.x[69_999 * 3 + 2]).toBe(wideValue(69_999, 2));
    await expectFormatError(
      parseCsv({ file: await write(wideCsv(3, 70_000)), maxValues: 209_999 }),
      'file',
      'the dataset would hold 210,000 values (70,000 examples of 3); at most 209,999 are allowed',
    );
  });
});

describe('CsvRecordReader', () => {
  it('gives the same records however the text is split', () => {
    const text = 'a,"b\r\n""c""",d\r\n1,,3\n"",x,"y"\r\n\nlast,"q",';
    const read = (parts: string[]) => {
      const out: [string[], number][] = [];
      const r = new CsvRecordReader(0x2c, 'file', (f, row) => out.push([f, row]));
      parts.forEach((p) => r.push(p));
      r.end();
      return out;
    };
    const whole = read([text]);
    expect(whole).toEqual([
      [['a', 'b\r\n"c"', 'd'], 1],
      [['1', '', '3'], 2],
      [['', 'x', 'y'], 3],
      [[''], 4],
      [['last', 'q', ''], 5],
    ]);
    for (let cut = 1; cut < text.length; cut++) expect(read([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    expect(read(text.split(''))).toEqual(whole);
  });

  it('counts, without keeping, the fields of a record wider than maxFields', () => {
    const records: string[][] = [];
    const refused: [number, number, boolean][] = [];
    const r = new CsvRecordReader(
      0x2c,
      'file',
      (f) => records.push(f),
      (count, row, complete) => {
        refused.push([count, row, complete]);
        throw new Error('too wide');
      },
    );
    r.maxFields = 3;
    r.push('a,b,c\n');
    expect(records).toEqual([['a', 'b', 'c']]);
    expect(() => r.push('1,"2,2",3,4,,\n')).toThrow('too wide');
    expect(refused).toEqual([[6, 2, true]]);
  });

  it('stops counting a record of nothing but delimiters, and has a message of its own', () => {
    const r = new CsvRecordReader(0x2c, 'file', () => {});
    r.maxFields = 10;
    const chunk = ','.repeat(1 << 20);
    let err: unknown;
    try {
      for (let i = 0; i <= MAX_COUNTED_FIELDS >> 20; i++) r.push(chunk);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe('row 1 has more than 16,777,216 fields; at most 10 are allowed');
    expect(() => {
      const short = new CsvRecordReader(0x2c, 'file', () => {});
      short.maxFields = 2;
      short.push('a,b,c\n');
    }).toThrow('row 1 has 3 fields; at most 2 are allowed');
  });
});

describe('parseCsv: broken files', () => {
  it('rejects a cell that is not a number, naming row and column', async () => {
    const broken = [...IRIS_ROWS, ...IRIS_ROWS].map((r, i) => (i === 15 ? [r[0], r[1], r[2], 'abc', r[4]] : r));
    await expectFormatError(parseCsv({ file: await write(irisCsv(broken)) }), 'file', 'row 17: column \'petal_width\' is not a number (got "abc")');
  });

  it('rejects an empty cell as not a number', async () => {
    await expectFormatError(parseCsv({ file: await write('a,b,l\n1,,x\n') }), 'file', 'row 2: column \'b\' is not a number (got "")');
  });

  it('rejects a value float32 cannot hold', async () => {
    await expectFormatError(parseCsv({ file: await write('a,l\n1e39,x\n2,y\n') }), 'file', 'row 2: column \'a\' is too large for float32 (got "1e39")');
  });

  it('rejects a row with the wrong number of columns', async () => {
    const rows = IRIS_ROWS.map((r, i) => (i === 3 ? r.slice(0, 4) : r));
    await expectFormatError(parseCsv({ file: await write(irisCsv(rows)) }), 'file', 'row 5 has 4 columns, the header has 5');
    const wider = IRIS_ROWS.map((r, i) => (i === 5 ? [...r, 1, 2, 3] : r));
    await expectFormatError(parseCsv({ file: await write(irisCsv(wider)) }), 'file', 'row 7 has 8 columns, the header has 5');
  });

  it('rejects a labelColumn that does not exist, listing the columns', async () => {
    await expectFormatError(
      parseCsv({ file: await write('a,b,c\n1,2,3\n4,5,6\n'), labelColumn: 'species' }),
      'labelColumn',
      "labelColumn 'species' is not a column; columns: a, b, c",
    );
  });

  it('lists at most 20 columns when labelColumn does not exist, and cuts long names short', async () => {
    const names = [`${'n'.repeat(50)}`, ...Array.from({ length: 99 }, (_, i) => `c${i + 1}`)];
    const text = `${names.join(',')}\n${names.map((_, i) => i % 2).join(',')}\n`;
    const shown = [`${'n'.repeat(40)}…`, ...names.slice(1, 20)].join(', ');
    await expectFormatError(parseCsv({ file: await write(text), labelColumn: 'species' }), 'labelColumn', `labelColumn 'species' is not a column; columns: ${shown} and 80 more`);
  });

  it('rejects a header without rows, and an empty file', async () => {
    await expectFormatError(parseCsv({ file: await write(`${IRIS_HEADER}\r\n\r\n`) }), 'file', 'the file has a header but no rows');
    await expectFormatError(parseCsv({ file: await write('\r\n\n') }), 'file', 'the file is empty');
    await expectFormatError(parseCsv({ file: await write('') }), 'file', 'the file is empty');
  });

  it('rejects unnamed, duplicate and lone columns', async () => {
    await expectFormatError(parseCsv({ file: await write('a,b, ,label\n1,2,3,x\n') }), 'file', 'column 3 has no name; every column needs one in the header row');
    await expectFormatError(parseCsv({ file: await write('a,b,a,label\n1,2,3,x\n') }), 'file', "column 'a' appears twice in the header (columns 1 and 3)");
    await expectFormatError(parseCsv({ file: await write('label\nx\ny\n') }), 'file', "the header has only the column 'label'; a dataset needs feature columns and a label column");
  });

  it('rejects an empty label', async () => {
    await expectFormatError(parseCsv({ file: await write('a,label\n1,x\n2, \n') }), 'file', "row 3: label column 'label' is empty");
  });

  it('rejects broken quoting', async () => {
    await expectFormatError(parseCsv({ file: await write('a,label\n1,"x\n2,y\n') }), 'file', 'row 2: a quoted field is not closed');
    await expectFormatError(parseCsv({ file: await write('a,label\n1,"x"y\n') }), 'file', 'row 2: column 2 has text after its closing quote');
  });

  it('rejects a field too long to be CSV, and binary data', async () => {
    await expectFormatError(
      parseCsv({ file: await write(`a,label\n${'9'.repeat(MAX_FIELD_CHARS + 1)},x\n`) }),
      'file',
      'row 2: a field is longer than 1,048,576 characters; is this a CSV file?',
    );
    await expectFormatError(parseCsv({ file: await write(Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0, 0x0a, 1, 2)) }), 'file', 'the file is not a text CSV file');
  });

  it('rejects a label column with a single class', async () => {
    await expectFormatError(parseCsv({ file: await write('a,species\n1,setosa\n2,setosa\n') }), 'file', "column 'species' has 1 class (setosa); at least 2 are needed");
  });

  it('enforces maxExamples, maxValues and maxClasses while reading', async () => {
    const file = await write(irisCsv());
    await expectFormatError(parseCsv({ file, maxExamples: 10 }), 'file', 'the file has more than 10 rows of data; at most 10 examples are allowed');
    await expectFormatError(parseCsv({ file, maxValues: 40 }), 'file', 'the dataset would hold 44 values (11 examples of 4); at most 40 are allowed');
    await expectFormatError(parseCsv({ file, maxClasses: 2 }), 'file', "column 'species' has more than 2 distinct values; at most 2 classes are allowed");
  });
});
