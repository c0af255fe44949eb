import { describe, expect, it } from 'vitest';
import { jobBody } from '../helpers/app.js';
import { useTestApp } from '../helpers/use-app.js';

/** Text PostgreSQL cannot store and numbers JSON overflows are 400s naming the field, never 500s, and store nothing. */
const t = useTestApp();

/** The body as raw JSON text: JSON.stringify would escape a lone surrogate into something else. */
const raw = (text: string) => t.http.post('/v1/jobs').set('content-type', 'application/json').send(text);

describe('text fields and numbers a request cannot hold', () => {
  it.each([
    ['a NUL in name', JSON.stringify(jobBody({ name: 'a\u0000b' })), 'name', /name contains a NUL character \(\\u0000\), which text fields cannot hold/],
    ['a lone high surrogate in name', JSON.stringify(jobBody({ name: 'PLACEHOLDER' })).replace('PLACEHOLDER', 'x\\ud800y'), 'name', /name contains an unpaired UTF-16 surrogate/],
    [
      'a lone low surrogate in a layer name',
      JSON.stringify(jobBody()).replace('"type":"flatten"', '"type":"flatten","name":"\\udc00"'),
      'model.layers[2].name',
      /unpaired UTF-16 surrogate/,
    ],
    ['a NUL in a key', JSON.stringify({ ...jobBody(), 'k\u0000': 1 }), '(body) (a key)', /contains a NUL character/],
    [
      'learningRate 1e400',
      JSON.stringify(jobBody()).replace('"learningRate":0.01', '"learningRate":1e400'),
      'training.learningRate',
      /training\.learningRate is a number too large to represent \(it overflows to Infinity\)/,
    ],
  ])('answers %s with a 400 naming %s', async (_what, body, field, message) => {
    const before = (await t.http.get('/v1/jobs')).body.items.length;
    const res = await raw(body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.errors[0].field).toBe(field);
    expect(res.body.detail).toMatch(message);
    expect((await t.http.get('/v1/jobs')).body.items.length).toBe(before);
  });

  it('keeps well-formed text: pairs of surrogates (emoji) and any other character', async () => {
    const name = 'ok-🙂-ü-\u0001';
    const res = await t.http.post('/v1/jobs').send(jobBody({ name }));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await t.http.get(`/v1/jobs/${res.body.id}`)).body.name).toBe(name);
  });

  it('refuses NUL in query strings and path segments, naming them', async () => {
    const query = await t.http.get('/v1/models?cursor=%00');
    expect(query.status).toBe(400);
    expect(query.body.errors[0].field).toBe('query.cursor');
    const path = await t.http.get('/v1/registered-models/a%00b');
    expect(path.status).toBe(400);
    expect(path.body.detail).toMatch(/path\.name contains a NUL character/);
  });

  it('refuses NUL in a multipart form field of a dataset upload', async () => {
    const res = await t.http.post('/v1/datasets').field('format', 'csv').field('name', 'x\u0000').attach('file', Buffer.from('a,label\n1,0\n2,1\n'), 'd.csv');
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.detail).toMatch(/form field 'name' contains a NUL character/);
  });
});
