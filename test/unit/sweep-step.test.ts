import { describe, expect, it } from 'vitest';
import type { SweepDocument } from '../../src/queue/sweep-document.js';
import type { StoredSweep } from '../../src/storage/sweep.schema.js';
import type { TrialRow } from '../../src/storage/sweeps.repository.js';
import { bestTrial, decideStep } from '../../src/sweep/sweep-step.js';

const doc: SweepDocument = {
  version: 1,
  base: {
    model: { input: { shape: [28, 28, 1] }, layers: [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    training: { epochs: 2 },
    dataset: { id: 'mnist', limit: 300 },
  },
  space: [{ path: 'training.learningRate', distribution: { values: [0.001, 0.01, 0.1] } }],
  algorithm: 'grid',
  objective: { metric: 'valAccuracy', goal: 'maximize' },
  maxTrials: 3,
  parallelism: 2,
  seed: 1,
  earlyStopping: null,
};

const sweep = (overrides: Partial<SweepDocument> = {}): StoredSweep => ({
  id: '00000000-0000-4000-8000-000000000001',
  tenantId: 't',
  name: 'grid',
  status: 'running',
  spec: { ...doc, ...overrides },
  queueName: 'q',
  maxTrials: overrides.maxTrials ?? doc.maxTrials,
  parallelism: overrides.parallelism ?? doc.parallelism,
  errorCode: null,
  errorMessage: null,
  idempotencyKey: null,
  requestHash: null,
  createdAt: new Date(),
  updatedAt: new Date(),
  finishedAt: null,
});

function trial(index: number, status: TrialRow['job']['status'], valAccuracy: number | null = null): TrialRow {
  return {
    sweepId: 's',
    index,
    jobId: `job-${index}`,
    params: { 'training.learningRate': [0.001, 0.01, 0.1][index] },
    job: { status, epochs: 2, attempts: 1, stopReason: null, errorCode: null, errorMessage: null, modelId: status === 'succeeded' ? `model-${index}` : null },
    last: valAccuracy === null ? null : { epoch: 2, loss: 1, accuracy: 0.5, valLoss: 1, valAccuracy },
  };
}

const options = { limits: { maxParams: 1e7, maxMacs: 1e9 }, defaultMaxWallTimeSeconds: 60 };

describe('decideStep', () => {
  it('creates trials up to the parallelism, the budget and the room in the tenant queue', () => {
    const first = decideStep({ sweep: sweep(), trials: [], queueRoom: 100 }, options);
    expect(first.finish).toBeUndefined();
    expect(first.create.map((c) => [c.index, c.params, c.spec.training.learningRate, c.name])).toEqual([
      [0, { 'training.learningRate': 0.001 }, 0.001, 'grid trial 0'],
      [1, { 'training.learningRate': 0.01 }, 0.01, 'grid trial 1'],
    ]);
    expect(first.create[0]).toMatchObject({ maxWallTimeMs: 60_000, plan: { totalParams: 7850 }, spec: { version: 2, training: { epochs: 2, loss: 'categoricalCrossentropy' } } });
    expect(decideStep({ sweep: sweep(), trials: [], queueRoom: 1 }, options).create).toHaveLength(1);
    expect(decideStep({ sweep: sweep(), trials: [], queueRoom: 0 }, options).create).toHaveLength(0);
    expect(decideStep({ sweep: sweep(), trials: [trial(0, 'running'), trial(1, 'queued')], queueRoom: 100 }, options).create).toHaveLength(0);
    const next = decideStep({ sweep: sweep(), trials: [trial(0, 'succeeded', 0.5), trial(1, 'running')], queueRoom: 100 }, options);
    expect(next.create.map((c) => c.index)).toEqual([2]);
  });

  it('ends the sweep once every trial has ended: succeeded with one success, failed with none', () => {
    const done = [trial(0, 'succeeded', 0.5), trial(1, 'failed'), trial(2, 'cancelled')];
    expect(decideStep({ sweep: sweep(), trials: done, queueRoom: 100 }, options)).toEqual({ create: [], finish: { status: 'succeeded' } });
    expect(decideStep({ sweep: sweep(), trials: done.slice(0, 2), queueRoom: 100 }, options).finish).toBeUndefined();
    const none = [trial(0, 'failed'), trial(1, 'failed'), trial(2, 'cancelled')];
    expect(decideStep({ sweep: sweep(), trials: none, queueRoom: 100 }, options).finish).toMatchObject({ status: 'failed', error: { code: 'no-trial-succeeded' } });
  });

  it('fails the sweep, naming the trial, when a trial cannot be built', () => {
    const bad = sweep({ space: [{ path: 'training.learningRate', distribution: { values: [0.001, -1, 0.1] } }] });
    const step = decideStep({ sweep: bad, trials: [trial(0, 'succeeded', 0.5)], queueRoom: 100 }, options);
    expect(step.finish).toMatchObject({
      status: 'failed',
      error: { code: 'invalid-trial', message: expect.stringMatching(/^trial 1 \(training\.learningRate=-1\) cannot train: learningRate must be/) },
    });
  });

  it('picks the best succeeded trial by the goal, the earlier one on a tie', () => {
    const trials = [trial(0, 'succeeded', 0.6), trial(1, 'succeeded', 0.7), trial(2, 'cancelled', 0.9)];
    expect(bestTrial(trials, { metric: 'valAccuracy', goal: 'maximize' })?.index).toBe(1);
    expect(bestTrial(trials, { metric: 'valAccuracy', goal: 'minimize' })?.index).toBe(0);
    expect(bestTrial([trial(0, 'succeeded', 0.7), trial(1, 'succeeded', 0.7)], { metric: 'valAccuracy', goal: 'maximize' })?.index).toBe(0);
    expect(bestTrial([trial(0, 'running', 0.7)], { metric: 'valAccuracy', goal: 'maximize' })).toBeNull();
  });
});
