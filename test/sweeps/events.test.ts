import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { holdStream, parseEvents, readStream } from '../helpers/event-stream.js';
import { sweepBody } from '../helpers/sweeps.js';

/**
 * The sweep's event stream without training: a cancelled sweep's trials end
 * at once, so its whole stream is known; resuming, a bad resume point, and
 * the server closing while a stream is open.
 */
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('GET /v1/sweeps/{id}/events', () => {
  it('streams the trials, the sweep and its end, and resumes after Last-Event-ID (header or query)', async () => {
    t = await createTestApp();
    const { body: sweep } = await t.http.post('/v1/sweeps').send(sweepBody());
    expect((await t.http.post(`/v1/sweeps/${sweep.id}/cancel`)).status).toBe(200);

    const all = parseEvents(await readStream(t.http, `/v1/sweeps/${sweep.id}/events`));
    const trials = all.filter((e) => e.event === 'trial');
    expect(trials.map((e) => [e.data.trial, e.data.status])).toEqual([
      [0, 'queued'],
      [1, 'queued'],
      [0, 'cancelled'],
      [1, 'cancelled'],
    ]);
    for (const e of trials) expect(e.id).toMatch(/^\d+$/);
    expect(all.map((e) => e.event).slice(-2)).toEqual(['sweep', 'end']);
    expect(all.at(-1)!.data).toEqual({ status: 'cancelled', best: null });

    const after = trials[1].id!;
    const later = trials.slice(2).map((e) => e.id);
    const byHeader = parseEvents(
      await t.http
        .get(`/v1/sweeps/${sweep.id}/events`)
        .set('last-event-id', after)
        .buffer(true)
        .parse((res, cb) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => cb(null, text));
        })
        .then((r) => r.body as string),
    );
    const byQuery = parseEvents(await readStream(t.http, `/v1/sweeps/${sweep.id}/events?lastEventId=${after}`));
    for (const resumed of [byHeader, byQuery]) {
      expect(resumed.filter((e) => e.event === 'trial').map((e) => e.id)).toEqual(later);
      expect(resumed.at(-1)).toMatchObject({ event: 'end', data: { status: 'cancelled' } });
    }
  });

  it('refuses a Last-Event-ID that is not an event id, naming the header', async () => {
    t = await createTestApp();
    const { body: sweep } = await t.http.post('/v1/sweeps').send(sweepBody());
    const res = await t.http.get(`/v1/sweeps/${sweep.id}/events`).set('last-event-id', 'abc');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([{ field: 'header.last-event-id', message: 'must be a number' }]);
    expect(res.body.detail).toBe('Last-Event-ID must be the id of an event of this stream, got "abc"');
    expect((await t.http.get(`/v1/sweeps/${sweep.id}/events?lastEventId=x`)).status).toBe(400);
  });

  it('ends an open stream with a reconnect event, naming where to resume, when the app closes', async () => {
    t = await createTestApp();
    const { body: sweep } = await t.http.post('/v1/sweeps').send(sweepBody());
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    const { open, ended } = holdStream(t, port, `/v1/sweeps/${sweep.id}/events`, (text) => text.includes('event: sweep\n'));
    // Both trials' queued events and the sweep's state are out before the app is told to close.
    await open;
    const closing = t.close();
    const text = await ended;
    await closing;
    t = undefined;
    const events = parseEvents(text);
    expect(events.filter((e) => e.event === 'trial').map((e) => e.data.status)).toEqual(['queued', 'queued']);
    const lastTrial = events.filter((e) => e.event === 'trial').at(-1)!;
    expect(events.at(-1)).toEqual({
      id: undefined,
      event: 'reconnect',
      data: { reason: 'server-closing', detail: 'this API process is shutting down; reconnect with Last-Event-ID to resume', lastEventId: lastTrial.id, retryMs: 2000 },
    });
    expect(events.some((e) => e.event === 'end')).toBe(false);
  });
});
