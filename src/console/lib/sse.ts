/** One Server-Sent Event: `event` defaults to "message", `id` is the last id seen (if any). */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
  retry?: number;
}

/**
 * Incremental parser of a text/event-stream body (the WHATWG rules: fields
 * `event`, `data`, `id`, `retry`; lines starting with `:` are comments; an
 * empty line dispatches). Feed it decoded chunks as they arrive; chunks may
 * split lines anywhere. Pure: no DOM, no I/O.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private retry: number | undefined;
  /** The id of the last event, kept across events as the spec says (for Last-Event-ID). */
  lastEventId: string | undefined;

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      if (this.data.length === 0 && this.retry === undefined) {
        this.event = '';
        return null;
      }
      const event: SseEvent = {
        event: this.event || 'message',
        data: this.data.join('\n'),
      };
      if (this.lastEventId !== undefined) event.id = this.lastEventId;
      if (this.retry !== undefined) event.retry = this.retry;
      this.event = '';
      this.data = [];
      this.retry = undefined;
      return event;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (name) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
    }
    return null;
  }
}
