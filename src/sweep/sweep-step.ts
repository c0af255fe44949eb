import type { PlanLimits } from '../model-spec/index.js';
import { bestTrial, trialObjective } from '../storage/sweep-trials.js';
import type { SweepState, SweepStep, TrialRow, TrialToCreate } from '../storage/sweeps.repository.js';

import { SweepSpaceError, describeParams } from './space.js';
import { nextTrialParams, type TrialRecord } from './suggest.js';
import { TrialSpecError, trialDocument } from './trial-document.js';

// The objective and the best trial are read where trials are read (storage), for the webhook messages too.
export { bestTrial, trialObjective };

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function isFinalTrial(t: TrialRow): boolean {
  return FINAL.has(t.job.status);
}

export function trialName(sweepName: string | null, index: number): string {
  return `${sweepName ?? 'sweep'} trial ${index}`;
}

export interface StepOptions {
  limits: PlanLimits;
  /** The server's wall-time limit of one attempt, for trials whose training sets none. */
  defaultMaxWallTimeSeconds: number;
}

/**
 * What the controller does next with a running sweep: create trials while
 * fewer than `parallelism` are unfinished, the budget is not spent, the
 * tenant may queue more jobs and the algorithm is not waiting for results;
 * end the sweep once every trial has run. Pure: the same state gives the
 * same step.
 */
export function decideStep(state: SweepState, options: StepOptions): SweepStep {
  const { sweep, trials } = state;
  const doc = sweep.spec;
  const metric = doc.objective.metric;
  // An objective counts for the search only when the trial succeeded (early-stopped ones too): a failed or cancelled run says little.
  const records: TrialRecord[] = trials.map((t) => ({
    index: t.index,
    params: t.params,
    final: isFinalTrial(t),
    objective: t.job.status === 'succeeded' ? trialObjective(t, metric) : null,
  }));
  const unfinished = records.filter((r) => !r.final).length;
  const create: TrialToCreate[] = [];
  let room = state.queueRoom;
  for (let index = trials.length; index < sweep.maxTrials && unfinished + create.length < sweep.parallelism && room > 0; index++, room--) {
    const params = nextTrialParams(doc, index, records);
    if (!params) break;
    let built: ReturnType<typeof trialDocument>;
    try {
      built = trialDocument(doc.base, params, options.limits);
    } catch (err) {
      // Every trial known in advance, and the corners of TPE's space, were checked at submission: this is not expected.
      if (!(err instanceof TrialSpecError || err instanceof SweepSpaceError)) throw err;
      return { create, finish: { status: 'failed', error: { code: 'invalid-trial', message: `trial ${index} (${describeParams(params)}) cannot train: ${err.message}` } } };
    }
    const { doc: spec, plan } = built;
    create.push({
      index,
      params,
      name: trialName(sweep.name, index),
      spec,
      plan,
      maxWallTimeMs: (spec.training.maxWallTimeSeconds ?? options.defaultMaxWallTimeSeconds) * 1000,
    });
  }
  if (create.length === 0 && unfinished === 0 && trials.length >= sweep.maxTrials) {
    const succeeded = trials.filter((t) => t.job.status === 'succeeded').length;
    return succeeded > 0
      ? { create, finish: { status: 'succeeded' } }
      : { create, finish: { status: 'failed', error: { code: 'no-trial-succeeded', message: `none of the ${trials.length} trials succeeded; see their jobs' errors` } } };
  }
  return { create };
}
