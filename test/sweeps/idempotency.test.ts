import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { sweepBody } from '../helpers/sweeps.js';
import type { SubmitSweepBody } from '../../src/api/routes/sweeps/sweeps.schema.js';
import { submitSweep } from '../../src/api/services/sweeps.service.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const newKey = () => `sweep-${randomBytes(6).toString('hex')}`;

/** What the tenant has stored: sweeps, trial rows and trial jobs. */
async function stored(tenantId: string) {
  const { db } = t!.app.services;
  return {
    sweeps: await db.sweep.count({ where: { tenantId } }),
    trials: await db.sweepTrial.count({ where: { sweep: { tenantId } } }),
    jobs: await db.job.count({ where: { tenantId } }),
  };
}

describe('POST /v1/sweeps with an Idempotency-Key', () => {
  it('replays the same sweep for the same key and body, and creates no second sweep or trials', async () => {
    t = await createTestApp();
    const key = newKey();
    const first = await t.http.post('/v1/sweeps').set('idempotency-key', key).send(sweepBody());
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(first.body.trials).toHaveLength(2);
    expect(await stored(t.tenant)).toEqual({ sweeps: 1, trials: 2, jobs: 2 });

    // The same body with its keys in another order is the same request.
    const { space, name, ...rest } = sweepBody();
    const again = await t.http
      .post('/v1/sweeps')
      .set('idempotency-key', key)
      .send({ space, ...rest, name });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(`/v1/sweeps/${first.body.id}`);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.trials.map((x: { jobId: string }) => x.jobId)).toEqual(first.body.trials.map((x: { jobId: string }) => x.jobId));
    expect(await stored(t.tenant)).toEqual({ sweeps: 1, trials: 2, jobs: 2 });
    expect(await t.app.services.queue.getJobCounts('waiting', 'prioritized', 'delayed')).toMatchObject({ waiting: 2 });

    // A submission without a key is a new sweep, as before.
    expect((await t.http.post('/v1/sweeps').send(sweepBody())).status).toBe(202);
    expect((await stored(t.tenant)).sweeps).toBe(2);
  });

  it('answers submissions racing with one key with one sweep', async () => {
    t = await createTestApp();
    const key = newKey();
    // Through the service, so that all four pass the look-up for an earlier sweep before any stores one.
    const { db, queue, config } = t.app.services;
    const body = sweepBody() as unknown as SubmitSweepBody;
    const answers = await Promise.all(Array.from({ length: 4 }, () => submitSweep({ db, queue, config }, t!.tenant, body, key)));
    expect(new Set(answers.map((a) => a.resource.id)).size).toBe(1);
    expect(answers.filter((a) => a.replayed)).toHaveLength(3);
    expect(await stored(t.tenant)).toEqual({ sweeps: 1, trials: 2, jobs: 2 });
  });

  it('refuses the same key with another body, naming the sweep the key belongs to, and stores nothing', async () => {
    t = await createTestApp();
    const key = newKey();
    const first = await t.http.post('/v1/sweeps').set('idempotency-key', key).send(sweepBody());
    expect(first.status).toBe(202);
    const other = await t.http
      .post('/v1/sweeps')
      .set('idempotency-key', key)
      .send(sweepBody({ space: { 'training.learningRate': { values: [0.001, 0.02] } } }));
    expect(other.status, JSON.stringify(other.body)).toBe(422);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(other.body).toMatchObject({ code: 'idempotency-key-reused', sweepId: first.body.id });
    expect(other.body.detail).toBe(`Idempotency-Key '${key}' was already used for a different request body (sweep ${first.body.id}); use a new key for a new sweep`);
    expect(await stored(t.tenant)).toEqual({ sweeps: 1, trials: 2, jobs: 2 });
  });

  it("keeps keys per tenant: another tenant's identical key and body make its own sweep", async () => {
    t = await createTestApp();
    const key = newKey();
    const other = await t.otherTenant();
    const mine = await t.http.post('/v1/sweeps').set('idempotency-key', key).send(sweepBody());
    const theirs = await other.http.post('/v1/sweeps').set('idempotency-key', key).send(sweepBody());
    // And a different body under the same key is no conflict across tenants.
    const third = await t.otherTenant();
    const different = await third.http
      .post('/v1/sweeps')
      .set('idempotency-key', key)
      .send(sweepBody({ name: 'another' }));
    for (const res of [mine, theirs, different]) {
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
    }
    expect(new Set([mine.body.id, theirs.body.id, different.body.id]).size).toBe(3);
    for (const tenant of [t.tenant, other.tenant, third.tenant]) expect(await stored(tenant)).toEqual({ sweeps: 1, trials: 2, jobs: 2 });
    expect((await other.http.get(`/v1/sweeps/${mine.body.id}`)).status).toBe(404);
    // Replays stay within their tenant.
    const replayed = await other.http.post('/v1/sweeps').set('idempotency-key', key).send(sweepBody());
    expect(replayed.body.id).toBe(theirs.body.id);
  });

  it('keeps sweep keys apart from job keys', async () => {
    t = await createTestApp();
    const key = newKey();
    const job = await t.http.post('/v1/jobs').set('idempotency-key', key).send(jobBody());
    const sweep = await t.http.post('/v1/sweeps').set('idempotency-key', key).send(sweepBody());
    expect(job.status).toBe(202);
    expect(sweep.status, JSON.stringify(sweep.body)).toBe(202);
    expect(sweep.headers['idempotent-replayed']).toBeUndefined();
  });

  it('refuses an empty or overlong key with a 400 naming the header', async () => {
    t = await createTestApp();
    for (const key of ['', 'k'.repeat(201)]) {
      const res = await t.http.post('/v1/sweeps').set('idempotency-key', key).send(sweepBody());
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.errors[0].field).toBe('header.idempotency-key');
      expect(res.body.detail).toMatch(key === '' ? /idempotency-key.*at least 1 character/ : /idempotency-key.*at most 200 characters/);
    }
    // 200 characters are fine.
    expect((await t.http.post('/v1/sweeps').set('idempotency-key', 'k'.repeat(200)).send(sweepBody())).status).toBe(202);
    expect((await stored(t.tenant)).sweeps).toBe(1);
  });
});
