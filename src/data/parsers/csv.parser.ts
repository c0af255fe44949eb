import { openByteSource } from './byte-source.js';
import { CsvRecordReader } from './csv-records.js';
import { DatasetFormatError } from './dataset-format.error.js';
import { assembleDataset, assertTwoClasses, assertValueLimit, classesFromLabels, NUMBER, resolveLimits, type ParsedDataset, type ParseLimits } from './dataset.js';
import { fmt } from './format.js';

export interface CsvInput extends ParseLimits {
  /** Path of the CSV file (UTF-8, optionally gzipped). The first row must be a header. */
  file: string;
  /** Name of the column holding the class label. Default: the last column. */
  labelColumn?: string;
}

const FIELD = 'file';
/** Rows allocated at first, unless the rows are wide (see {@link INITIAL_VALUES}). */
const INITIAL_ROWS = 1 << 16;
/** Values allocated at first: wide tables start with fewer rows. */
const INITIAL_VALUES = 1 << 20;
/** Column names listed when `labelColumn` is not one of them. */
const LISTED_COLUMNS = 20;

/**
 * Reads a table of numeric features with one label column. Rows are read as
 * they stream in; only the feature values and a small id per row are kept.
 *
 * Labels: when every label is a number, classes are the distinct values in
 * numeric order (so labels 0..K-1 keep their meaning, and `1` and `1.0` are
 * one class); otherwise the distinct strings in sorted order. Either way the
 * order does not depend on which rows come first. `classNames` holds the
 * labels as written (numbers in canonical form: `1.0` becomes `1`).
 */
export async function parseCsv(input: CsvInput): Promise<ParsedDataset> {
  const limits = resolveLimits(input);
  const source = await openByteSource(input.file, FIELD, 'the file');
  const decoder = new TextDecoder('utf-8');

  let header: string[] | null = null;
  let labelIndex = -1;
  let features = 0;
  let reader: CsvRecordReader | null = null;
  let headLine = '';
  let count = 0;
  let x = new Float32Array(0);
  let labelIds = new Uint32Array(0);
  let maxRows = 0;
  let initialRows = 0;
  const labelIdOf = new Map<string, number>();

  // At most one label column and `maxFeatures` feature columns: the reader
  // never builds a longer header record, it only counts its fields.
  const headerTooWide = (columns: number, complete = true): never => {
    const what = complete ? `${fmt(columns)} columns (${fmt(columns - 1)} features and a label)` : `more than ${fmt(columns)} columns`;
    throw new DatasetFormatError(FIELD, `the header has ${what}; at most ${fmt(limits.maxFeatures)} feature columns are allowed`);
  };

  const onHeader = (fields: string[]) => {
    if (fields.length - 1 > limits.maxFeatures) headerTooWide(fields.length);
    const names = fields.map((f) => f.trim());
    const columnOf = new Map<string, number>();
    names.forEach((name, i) => {
      if (name === '') throw new DatasetFormatError(FIELD, `column ${i + 1} has no name; every column needs one in the header row`);
      const first = columnOf.get(name);
      if (first !== undefined) {
        throw new DatasetFormatError(FIELD, `column '${name}' appears twice in the header (columns ${first + 1} and ${i + 1})`);
      }
      columnOf.set(name, i);
    });
    if (input.labelColumn === undefined) {
      labelIndex = names.length - 1;
    } else {
      labelIndex = columnOf.get(input.labelColumn) ?? -1;
      if (labelIndex < 0) {
        throw new DatasetFormatError('labelColumn', `labelColumn '${input.labelColumn}' is not a column; columns: ${listColumns(names)}`);
      }
    }
    if (names.length < 2) {
      throw new DatasetFormatError(FIELD, `the header has only the column '${names[0]}'; a dataset needs feature columns and a label column`);
    }
    features = names.length - 1;
    header = names;
    // Rows are held to what maxValues allows; start small enough that a wide table does not reserve much.
    maxRows = Math.min(limits.maxExamples, Math.floor(limits.maxValues / features));
    initialRows = Math.max(1, Math.min(INITIAL_ROWS, Math.floor(INITIAL_VALUES / features)));
  };

  const onRow = (fields: string[], row: number) => {
    if (isBlank(fields)) return;
    const names = header!;
    if (fields.length !== names.length) rowWidthMismatch(fields.length, row);
    if (count + 1 > limits.maxExamples) {
      throw new DatasetFormatError(FIELD, `the file has more than ${fmt(limits.maxExamples)} rows of data; at most ${fmt(limits.maxExamples)} examples are allowed`);
    }
    assertValueLimit(FIELD, count + 1, [features], limits);
    if (count === labelIds.length) {
      // Doubling, from a few MB, never past maxValues: memory follows the rows actually read.
      const capacity = Math.min(Math.max(initialRows, labelIds.length * 2), maxRows);
      x = grow(x, capacity * features);
      labelIds = grow(labelIds, capacity);
    }
    let o = count * features;
    for (let i = 0; i < fields.length; i++) {
      const text = fields[i].trim();
      if (i === labelIndex) {
        if (text === '') throw new DatasetFormatError(FIELD, `row ${fmt(row)}: label column '${names[i]}' is empty`);
        let id = labelIdOf.get(text);
        if (id === undefined) {
          id = labelIdOf.size;
          if (id >= limits.maxClasses) {
            throw new DatasetFormatError(
              FIELD,
              `column '${names[i]}' has more than ${fmt(limits.maxClasses)} distinct values; at most ${fmt(limits.maxClasses)} classes are allowed`,
            );
          }
          labelIdOf.set(text, id);
        }
        labelIds[count] = id;
        continue;
      }
      if (!NUMBER.test(text)) {
        throw new DatasetFormatError(FIELD, `row ${fmt(row)}: column '${names[i]}' is not a number (got ${quote(fields[i])})`);
      }
      const v = Math.fround(Number(text));
      if (!Number.isFinite(v)) {
        throw new DatasetFormatError(FIELD, `row ${fmt(row)}: column '${names[i]}' is too large for float32 (got ${quote(fields[i])})`);
      }
      x[o++] = v;
    }
    count++;
  };

  const rowWidthMismatch = (columns: number, row: number, complete = true): never => {
    throw new DatasetFormatError(FIELD, `row ${fmt(row)} has ${complete ? '' : 'more than '}${fmt(columns)} columns, the header has ${fmt(header!.length)}`);
  };

  const startReader = (line: string): CsvRecordReader => {
    if (line.includes('\u0000')) throw new DatasetFormatError(FIELD, 'the file is not a text CSV file');
    const r = new CsvRecordReader(
      detectDelimiter(line),
      FIELD,
      (fields, row) => {
        if (header) {
          onRow(fields, row);
        } else if (!isBlank(fields)) {
          onHeader(fields);
          r.maxFields = fields.length;
        }
      },
      (columns, row, complete) => (header ? rowWidthMismatch(columns, row, complete) : headerTooWide(columns, complete)),
    );
    r.maxFields = limits.maxFeatures + 1;
    r.push(line);
    return r;
  };

  try {
    for await (const chunk of source.reader.rest()) {
      const text = decoder.decode(chunk, { stream: true });
      if (reader) {
        reader.push(text);
        continue;
      }
      // The delimiter is chosen from the header line, so hold text back until it is complete.
      headLine += text;
      if (/\S[^\r\n]*[\r\n]/.test(headLine) || headLine.length > 64 << 10) {
        reader = startReader(headLine);
        headLine = '';
      }
    }
    reader ??= startReader(headLine);
    reader.push(decoder.decode());
    reader.end();
  } finally {
    await source.reader.close();
  }

  // Assigned inside the record callback, which control-flow analysis cannot see.
  const columns = header as string[] | null;
  if (!columns) throw new DatasetFormatError(FIELD, 'the file is empty');
  if (count === 0) throw new DatasetFormatError(FIELD, 'the file has a header but no rows');
  const classes = classesFromLabels([...labelIdOf.keys()], labelIds.subarray(0, count));
  assertTwoClasses(FIELD, `column '${columns[labelIndex]}'`, classes.y, classes.classNames);
  const values = x.length === count * features ? x : x.slice(0, count * features);
  return assembleDataset({ dtype: 'float32', x: values }, classes, [features]);
}

/** The first {@link LISTED_COLUMNS} names (long ones cut short), then how many more there are. */
function listColumns(names: readonly string[]): string {
  const shown = names.slice(0, LISTED_COLUMNS).map((name) => (name.length > 40 ? `${name.slice(0, 40)}…` : name));
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${fmt(more)} more` : shown.join(', ');
}

function isBlank(fields: string[]): boolean {
  return fields.length === 1 && fields[0].trim() === '';
}

/** Comma unless the header clearly uses tabs or semicolons (TSV exports, European spreadsheets). */
function detectDelimiter(headerLine: string): number {
  const line = headerLine.split(/\r?\n|\r/).find((l) => l.trim() !== '') ?? '';
  if (line.includes(',')) return 0x2c;
  if (line.includes('\t')) return 0x09;
  if (line.includes(';')) return 0x3b;
  return 0x2c;
}

function grow<T extends Float32Array | Uint32Array>(array: T, length: number): T {
  const out = new (array.constructor as new (n: number) => T)(length);
  out.set(array);
  return out;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
