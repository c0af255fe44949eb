import { describe, expect, it } from 'vitest';
import { SMALL_CNN } from '../helpers/app.js';
import { useAppWithWorker } from '../helpers/use-app.js';
import { waitForJob } from '../helpers/wait-for-job.js';
import { enqueueTraining } from '../../src/queue/train-queue.js';
import { planModel, type ModelSpec } from '../../src/model-spec/index.js';
import { readJobDocument } from '../../src/storage/job.schema.js';
import { isCurrentJobDocument } from '../../src/queue/job-document.js';

/**
 * Rows written before the job document was stored normalised: `spec` is
 * {model, training as submitted, dataset}, without `version`. The worker
 * still trains them, filling in the defaults as it used to.
 */

const { t } = useAppWithWorker();

/** A job row exactly as the API stored it before: the raw training, the plan, no document version. */
async function insertLegacyJob(training: Record<string, unknown> | undefined, dataset = { id: 'mnist', limit: 300 }) {
  const spec = { model: SMALL_CNN, ...(training ? { training } : {}), dataset };
  const row = await t.app.services.db.job.create({
    data: {
      tenantId: t.tenant,
      name: 'legacy',
      spec: spec as object,
      plan: planModel(SMALL_CNN as ModelSpec) as object,
      datasetId: dataset.id,
      queueName: t.config.QUEUE_NAME,
      epochs: typeof training?.epochs === 'number' ? training.epochs : 5,
      status: 'queued',
    },
  });
  expect(isCurrentJobDocument(readJobDocument(row.spec, row.id))).toBe(false);
  await enqueueTraining(t.app.services.queue, { jobId: row.id, tenantId: t.tenant });
  return row.id;
}

describe('a job row stored before training was stored normalised', () => {
  it('trains with the defaults filled in: held-out splits of 0.1 each, its own seed', async () => {
    const id = await insertLegacyJob({ epochs: 1, learningRate: 0.01, seed: 3 });
    const job = await waitForJob(t.http, id, { timeoutMs: 100_000 });
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    // 300 examples, validationSplit and testSplit defaulting to 0.1: about 30 each, stratified per class.
    expect(job.split.seed).toBe(3);
    expect(job.split.validation).toBeGreaterThanOrEqual(25);
    expect(job.split.validation).toBeLessThanOrEqual(35);
    expect(job.split.test).toBeGreaterThanOrEqual(25);
    expect(job.split.test).toBeLessThanOrEqual(35);
    expect(job.split.train + job.split.validation + job.split.test).toBe(300);
    expect(job.progress).toMatchObject({ epoch: 1, epochs: 1 });
    expect(job.test.accuracy).toEqual(expect.any(Number));
    expect(job.modelId).toEqual(expect.any(String));
    const metrics = await t.http.get(`/v1/jobs/${id}/metrics`);
    expect(metrics.body.items).toHaveLength(1);
    expect(metrics.body.items[0].valAccuracy).toEqual(expect.any(Number));
  });

  it("fails with invalid-spec, without retries, when its training breaks today's rules; the API still shows it", async () => {
    // Each split alone was and is allowed; together they have been refused since the held-out limit came.
    const id = await insertLegacyJob({ epochs: 1, validationSplit: 0.5, testSplit: 0.45 });
    const job = await waitForJob(t.http, id, { timeoutMs: 100_000 });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('invalid-spec');
    expect(job.error.message).toMatch(/validationSplit \+ testSplit must be below 0\.9/);
    expect(job.attempts).toBe(1);
    expect(job.modelId).toBeNull();
    const listed = await t.http.get('/v1/jobs');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((j: { id: string }) => j.id)).toContain(id);
  });
});
