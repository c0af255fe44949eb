import type { SweepDocument } from '../queue/sweep-document.js';
import { gridParams, randomParams, trialRng } from './samplers.js';
import type { TrialParams } from './space.js';
import { tpeSuggest } from './tpe.js';

/**
 * Which parameters each trial gets. Grid and random search know every
 * trial's parameters in advance; TPE starts with random trials, then learns
 * from finished ones. Every choice is a function of the sweep's seed, the
 * trial's index and (for TPE) the results of earlier trials, never of timing.
 */

/** Random trials TPE runs before it models the results: a third of the budget, from 3 to 10. */
export function tpeStartupTrials(maxTrials: number): number {
  return Math.max(3, Math.min(10, Math.floor(maxTrials / 3)));
}

type Plan = Pick<SweepDocument, 'algorithm' | 'space' | 'seed' | 'maxTrials'>;

/**
 * The trials whose parameters are known before any trial runs: all of them
 * for grid and random search, TPE's random start. The API plans and checks
 * each of these at submission.
 */
export function paramsKnownInAdvance(sweep: Plan): TrialParams[] {
  const count = sweep.algorithm === 'tpe' ? Math.min(sweep.maxTrials, tpeStartupTrials(sweep.maxTrials)) : sweep.maxTrials;
  return Array.from({ length: count }, (_, i) => (sweep.algorithm === 'grid' ? gridParams(sweep.space, i) : randomParams(sweep.space, sweep.seed, i)));
}

/** A trial as the algorithms see it. `objective` is its metric at its last epoch, null when it has none. */
export interface TrialRecord {
  index: number;
  params: TrialParams;
  /** Its job succeeded, failed or was cancelled. */
  final: boolean;
  objective: number | null;
}

/**
 * Parameters of trial `index`, or null when it must wait: TPE's trial i
 * learns from exactly the trials 0 .. i - parallelism, so it waits until
 * those are finished. With `parallelism` trials at a time those are the
 * trials a sequential run would also have finished, whatever order the
 * running ones end in, and the same results give the same suggestions.
 */
export function nextTrialParams(sweep: SweepDocument, index: number, trials: TrialRecord[]): TrialParams | null {
  if (sweep.algorithm === 'grid') return gridParams(sweep.space, index);
  if (sweep.algorithm === 'random' || index < tpeStartupTrials(sweep.maxTrials)) return randomParams(sweep.space, sweep.seed, index);
  const window = trials.filter((t) => t.index <= index - sweep.parallelism);
  if (window.some((t) => !t.final)) return null;
  const sign = sweep.objective.goal === 'maximize' ? -1 : 1;
  const observations = window
    .filter((t) => t.objective !== null && Number.isFinite(t.objective))
    .sort((a, b) => a.index - b.index)
    .map((t) => ({ params: t.params, loss: sign * t.objective! }));
  // Too few results to tell good from bad (trials failed, or the window is still short): keep sampling at random.
  if (observations.length < 2) return randomParams(sweep.space, sweep.seed, index);
  return tpeSuggest(sweep.space, observations, trialRng(sweep.seed, index, 'tpe'));
}
