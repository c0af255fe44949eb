import { SMALL_CNN, type TestApp } from './app.js';
import { waitFor } from './wait-for.js';

/** A small base job: the tests' tiny CNN on 300 built-in digits, one epoch. */
export const BASE = {
  model: SMALL_CNN,
  training: { optimizer: 'adam', learningRate: 0.01, epochs: 1, batchSize: 32, validationSplit: 0.1, seed: 1 },
  dataset: { id: 'mnist', limit: 300 },
};

export function sweepBody(overrides: Record<string, unknown> = {}) {
  return {
    name: 'test-sweep',
    base: BASE,
    space: { 'training.learningRate': { values: [0.001, 0.01] } },
    algorithm: 'grid',
    objective: { metric: 'valAccuracy', goal: 'maximize' },
    parallelism: 2,
    ...overrides,
  };
}

/** A sweep as GET /v1/sweeps/{id} answers it; tests read whichever fields they check. */
/**
 * Three learning rates tried one at a time, the strong one first, with ASHA
 * from epoch 1: the strong trial alone reaches the first rung and goes on,
 * the two weak ones meet it there and stop.
 */
export function ashaStrongFirstSweep(overrides: Record<string, unknown> = {}) {
  return sweepBody({
    space: { 'training.learningRate': { values: [0.02, 0.00001, 0.000003] } },
    base: { ...BASE, training: { ...BASE.training, epochs: 3, batchSize: 16 } },
    objective: { metric: 'valLoss' },
    parallelism: 1,
    earlyStopping: { type: 'asha', minEpochs: 1, reductionFactor: 3 },
    ...overrides,
  });
}

export type SweepBody = { id: string; status: string; trials: any[] } & Record<string, any>;

const FINAL = ['succeeded', 'failed', 'cancelled'];

/** Polls GET /v1/sweeps/{id} until `until` accepts it (default: the sweep and every trial have ended). */
export function waitForSweep(
  http: TestApp['http'],
  id: string,
  {
    until = (s) => FINAL.includes(s.status) && s.trials.every((t) => FINAL.includes(t.status)),
    timeoutMs = 240_000,
    what = 'the sweep and its trials to end',
  }: { until?: (sweep: SweepBody) => boolean; timeoutMs?: number; what?: string } = {},
): Promise<SweepBody> {
  return waitFor(async () => (await http.get(`/v1/sweeps/${id}`)).body as SweepBody, until, { timeoutMs, intervalMs: 250, what: `sweep ${id}: ${what}` });
}
