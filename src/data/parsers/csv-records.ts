import { DatasetFormatError } from './dataset-format.error.js';
import { fmt } from './format.js';

/** A field this long means the upload is not a CSV (or has no line breaks at all). */
export const MAX_FIELD_CHARS = 1 << 20;

/**
 * Past `maxFields`, the fields of a record are counted (not kept) so the error
 * can say how many there are; past this many, counting stops too, so a
 * decompressed line of nothing but commas cannot keep the reader busy.
 */
export const MAX_COUNTED_FIELDS = 1 << 24;

/**
 * A record has more than `maxFields` fields: `count` of them when `complete`,
 * otherwise more than `count` (counting stopped there).
 */
export type TooManyFields = (count: number, row: number, complete: boolean) => never;

enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** Just read a `"` inside a quoted field: either `""` (a literal quote) or the closing quote. */
  QuoteInQuoted,
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Incremental RFC 4180 reader: feed text in any chunking, get whole records.
 * Row numbers count every record from 1 (the header), as a spreadsheet does.
 */
export class CsvRecordReader {
  private state = State.FieldStart;
  private fields: string[] = [];
  private partial = '';
  private afterCR = false;
  private row = 1;
  /** Fields of the current record beyond `maxFields`, counted but dropped. */
  private dropped = 0;

  /**
   * Most fields a record may have. A longer record is never built: its extra
   * fields are only counted, and `tooManyFields` is called instead of `onRecord`.
   * May be changed between records (e.g. to the header's width once it is read).
   */
  maxFields = Infinity;

  constructor(
    private readonly delimiter: number,
    private readonly field: string,
    private readonly onRecord: (fields: string[], row: number) => void,
    private readonly tooManyFields?: TooManyFields,
  ) {}

  push(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.afterCR) {
        this.afterCR = false;
        if (c === LF) {
          start = i + 1;
          continue;
        }
      }
      switch (this.state) {
        case State.FieldStart:
          if (c === QUOTE) {
            this.state = State.Quoted;
            start = i + 1;
          } else if (c === this.delimiter) {
            this.addField('');
          } else if (c === LF || c === CR) {
            this.addField('');
            this.endRecord(c);
          } else {
            this.state = State.Unquoted;
            start = i;
          }
          break;
        case State.Unquoted:
          // A stray quote inside an unquoted field (`5"3`) is kept literally, as spreadsheets do.
          if (c === this.delimiter) {
            this.endField(text.slice(start, i));
          } else if (c === LF || c === CR) {
            this.endField(text.slice(start, i));
            this.endRecord(c);
          }
          break;
        case State.Quoted:
          if (c === QUOTE) {
            this.append(text.slice(start, i));
            this.state = State.QuoteInQuoted;
          }
          break;
        case State.QuoteInQuoted:
          if (c === QUOTE) {
            this.append('"');
            this.state = State.Quoted;
            start = i + 1;
          } else if (c === this.delimiter) {
            this.endField('');
          } else if (c === LF || c === CR) {
            this.endField('');
            this.endRecord(c);
          } else {
            throw new DatasetFormatError(this.field, `row ${fmt(this.row)}: column ${this.fields.length + 1} has text after its closing quote`);
          }
          break;
      }
    }
    if (this.state === State.Unquoted || this.state === State.Quoted) this.append(text.slice(start));
  }

  end(): void {
    switch (this.state) {
      case State.Quoted:
        throw new DatasetFormatError(this.field, `row ${fmt(this.row)}: a quoted field is not closed`);
      case State.Unquoted:
      case State.QuoteInQuoted:
        this.endField('');
        this.endRecord(LF);
        break;
      case State.FieldStart:
        // `a,b,` at the very end: the last field is empty but present.
        if (this.fields.length > 0) {
          this.addField('');
          this.endRecord(LF);
        }
        break;
    }
  }

  private append(text: string): void {
    this.partial += text;
    if (this.partial.length > MAX_FIELD_CHARS) {
      throw new DatasetFormatError(this.field, `row ${fmt(this.row)}: a field is longer than ${fmt(MAX_FIELD_CHARS)} characters; is this a CSV file?`);
    }
  }

  private endField(tail: string): void {
    this.append(tail);
    this.addField(this.partial);
    this.partial = '';
    this.state = State.FieldStart;
  }

  private addField(text: string): void {
    if (this.fields.length < this.maxFields) {
      this.fields.push(text);
      return;
    }
    this.dropped++;
    const ceiling = Math.max(MAX_COUNTED_FIELDS, this.maxFields);
    if (this.fields.length + this.dropped > ceiling) this.refuse(ceiling, false);
  }

  private endRecord(terminator: number): void {
    const fields = this.fields;
    this.fields = [];
    this.state = State.FieldStart;
    this.afterCR = terminator === CR;
    const dropped = this.dropped;
    this.dropped = 0;
    if (dropped > 0) this.refuse(fields.length + dropped, true);
    this.onRecord(fields, this.row++);
  }

  private refuse(count: number, complete: boolean): never {
    this.tooManyFields?.(count, this.row, complete);
    throw new DatasetFormatError(this.field, `row ${fmt(this.row)} has ${complete ? '' : 'more than '}${fmt(count)} fields; at most ${fmt(this.maxFields)} are allowed`);
  }
}
