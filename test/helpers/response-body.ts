import type { Response } from 'supertest';

/** supertest keeps a streamed body only when asked to: `.buffer(true).parse(textBody)` keeps it as text. */
export function textBody(res: Response, callback: (err: Error | null, body: string) => void) {
  let text = '';
  res.on('data', (chunk: Buffer) => (text += chunk.toString()));
  res.on('end', () => callback(null, text));
}

/** `.buffer(true).parse(binaryBody)` keeps a binary body as a Buffer. */
export function binaryBody(res: Response, callback: (err: Error | null, body: Buffer) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}
