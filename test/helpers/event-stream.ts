import http from 'node:http';
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

/**
 * Opens `path`'s event stream over a real socket on `t`'s listening server
 * (the app closing must end it, which supertest cannot show): `open`
 * resolves once the text read so far satisfies `opened`, `ended` with all
 * the text when the server ends the response.
 */
export function holdStream(t: TestApp, port: number, path: string, opened: (text: string) => boolean): { open: Promise<void>; ended: Promise<string> } {
  let markOpen!: () => void;
  const open = new Promise<void>((resolve) => (markOpen = resolve));
  const ended = new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${t.key}` } }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
          if (opened(text)) markOpen();
        });
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  return { open, ended };
}
