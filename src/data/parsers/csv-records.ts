import { DatasetFormatError } from './dataset-format.error.js';
import { fmt } from './format.js';

/** A field this long means the upload is not a CSV (or has no line breaks at all). */
export const MAX_FIELD_CHARS = 1 << 20;

const enum State {
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

  constructor(
    private readonly delimiter: number,
    private readonly field: string,
    private readonly onRecord: (fields: string[], row: number) => void,
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
            this.fields.push('');
          } else if (c === LF || c === CR) {
            this.fields.push('');
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
            throw new DatasetFormatError(
              this.field,
              `row ${fmt(this.row)}: column ${this.fields.length + 1} has text after its closing quote`,
            );
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
          this.fields.push('');
          this.endRecord(LF);
        }
        break;
    }
  }

  private append(text: string): void {
    this.partial += text;
    if (this.partial.length > MAX_FIELD_CHARS) {
      throw new DatasetFormatError(
        this.field,
        `row ${fmt(this.row)}: a field is longer than ${fmt(MAX_FIELD_CHARS)} characters; is this a CSV file?`,
      );
    }
  }

  private endField(tail: string): void {
    this.append(tail);
    this.fields.push(this.partial);
    this.partial = '';
    this.state = State.FieldStart;
  }

  private endRecord(terminator: number): void {
    const fields = this.fields;
    this.fields = [];
    this.state = State.FieldStart;
    this.afterCR = terminator === CR;
    this.onRecord(fields, this.row++);
  }
}
