import { describe, expect, it } from 'vitest';
import { jobBody } from '../helpers/app.js';
import { useAppWithWorker } from '../helpers/use-app.js';
import { parseEvents, readStream } from '../helpers/event-stream.js';
import { waitForJob } from '../helpers/wait-for-job.js';

/**
 * What the web console needs from the public API beyond jobs' states: the
 * running mean loss and accuracy inside an epoch (live per-batch curves), a
 * name filter for the jobs list, and each job's model and training settings
 * (comparing runs, editing a copy).
 */
const { t } = useAppWithWorker();

describe('per-batch metrics while an epoch runs', () => {
  it('progress events carry the mean loss and accuracy of the epoch so far; the job keeps the last ones', async () => {
    const { body: job } = await t.http
      .post('/v1/jobs')
      .send(jobBody({ name: 'batches', training: { epochs: 2, batchSize: 16, learningRate: 0.01, seed: 4 }, dataset: { id: 'mnist', limit: 400 } }));
    expect(job.progress).toMatchObject({ batch: 0, loss: null, accuracy: null });
    const events = parseEvents(await readStream(t.http, `/v1/jobs/${job.id}/events`));
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data);
    const trained = progress.filter((p) => (p.batch as number) > 0);
    // The worker writes the first batch of a run at once, and every epoch's end.
    expect(trained.length).toBeGreaterThan(0);
    for (const p of trained) {
      expect(p.loss, JSON.stringify(p)).toEqual(expect.any(Number));
      expect(p.loss as number).toBeGreaterThan(0);
      expect(p.accuracy as number).toBeGreaterThanOrEqual(0);
      expect(p.accuracy as number).toBeLessThanOrEqual(1);
    }
    const done = await waitForJob(t.http, job.id);
    expect(done.status).toBe('succeeded');
    const metrics = (await t.http.get(`/v1/jobs/${job.id}/metrics`)).body.items;
    // At an epoch's end the running mean is the epoch's own figure.
    expect(done.progress.loss).toBeCloseTo(metrics.at(-1).loss, 6);
    expect(done.progress.accuracy).toBeCloseTo(metrics.at(-1).accuracy, 6);
  });
});

describe('the jobs list filtered by name', () => {
  it('keeps jobs whose name contains the text, whatever its case', async () => {
    const { tenant: _other, http } = await t.otherTenant();
    const names = ['Lesson-MNIST-a', 'lesson-mnist-b', 'inception-c'];
    const ids: string[] = [];
    for (const name of names) {
      const res = await http.post('/v1/jobs').send(jobBody({ name, training: { epochs: 1 } }));
      expect(res.status).toBe(202);
      ids.push(res.body.id);
      await http.post(`/v1/jobs/${res.body.id}/cancel`);
    }
    const found = await http.get('/v1/jobs').query({ name: 'MNIST' });
    expect(found.status).toBe(200);
    expect(found.body.items.map((j: { name: string }) => j.name).sort()).toEqual(['Lesson-MNIST-a', 'lesson-mnist-b']);
    const both = await http.get('/v1/jobs').query({ name: 'lesson', status: 'cancelled', limit: 1 });
    expect(both.body.items).toHaveLength(1);
    expect(both.body.nextCursor).toEqual(expect.any(String));
    const next = await http.get('/v1/jobs').query({ name: 'lesson', status: 'cancelled', limit: 1, cursor: both.body.nextCursor });
    expect(next.body.items.map((j: { name: string }) => j.name.toLowerCase())).toEqual([expect.stringContaining('lesson')]);
    expect((await http.get('/v1/jobs').query({ name: 'nothing-like-it' })).body.items).toEqual([]);
    // Another tenant's jobs never match.
    expect((await t.http.get('/v1/jobs').query({ name: 'inception-c' })).body.items).toEqual([]);
  });

  it.each([
    [{ name: '' }, /^query\.name must have at least 1 character/],
    [{ name: 'x'.repeat(201) }, /^query\.name must have at most 200 characters/],
  ])('refuses %j with a 400 naming the parameter', async (q, message) => {
    const res = await t.http.get('/v1/jobs').query(q);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.name');
    expect(res.body.detail).toMatch(message);
  });
});

describe("a job's model and training settings", () => {
  it('GET /v1/jobs/{id} gives the model and the training with every default filled in; the list does not', async () => {
    const res = await t.http.post('/v1/jobs').send(jobBody({ name: 'spec-view', training: { epochs: 1, learningRate: 0.02 } }));
    await t.http.post(`/v1/jobs/${res.body.id}/cancel`);
    const job = (await t.http.get(`/v1/jobs/${res.body.id}`)).body;
    expect(job.spec.model).toEqual(jobBody().model);
    expect(job.spec.training).toMatchObject({ epochs: 1, learningRate: 0.02, optimizer: 'adam', batchSize: 32, validationSplit: 0.1, testSplit: 0.1, seed: 42 });
    const list = (await t.http.get('/v1/jobs').query({ name: 'spec-view' })).body;
    expect(list.items[0].id).toBe(res.body.id);
    expect(list.items[0].spec).toBeUndefined();
  });
});
