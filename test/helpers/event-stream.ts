import type { TestApp } from './app.js';
import { textBody } from './response-body.js';

/** Reads an SSE response into events. */
export function parseEvents(text: string) {
  return text
    .split('\n\n')
    .filter((b) => b.includes('event:'))
    .map((block) => {
      const get = (k: string) =>
        block
          .split('\n')
          .find((l) => l.startsWith(`${k}: `))
          ?.slice(k.length + 2);
      return { id: get('id'), event: get('event')!, data: JSON.parse(get('data') ?? 'null') };
    });
}

/** GET an event stream to its end, as text. */
export async function readStream(http: TestApp['http'], path: string): Promise<string> {
  return (await http.get(path).buffer(true).parse(textBody)).body as string;
}
