import type { SweepEarlyStopping, SweepGoal, SweepMetric } from '../queue/sweep-document.js';

/**
 * Early stopping of weak trials, decided after each of a trial's epochs
 * from the per-epoch metrics of every trial of the sweep. Pure: the caller
 * reads the metrics and records the decision (src/sweep/trial-judge.ts).
 */

export type TrialDecision = { stop: false } | { stop: true; reason: string };

export interface EpochJudgement {
  rule: SweepEarlyStopping;
  objective: { metric: SweepMetric; goal: SweepGoal };
  /** The epoch just finished (1-based). */
  epoch: number;
  /** Epochs the trial trains in all: its last epoch is never judged. */
  epochs: number;
  /** The trial's objective after each epoch so far: [epoch 1, epoch 2, ...]. */
  own: (number | null)[];
  /** The same series of every other trial of the sweep, each as far as it got. */
  others: (number | null)[][];
}

const CONTINUE: TrialDecision = { stop: false };

export function judgeEpoch(j: EpochJudgement): TrialDecision {
  if (j.epoch >= j.epochs) return CONTINUE;
  return j.rule.type === 'asha' ? asha(j, j.rule.minEpochs, j.rule.reductionFactor) : median(j, j.rule.minEpochs, j.rule.minTrials);
}

/** Rung epochs: minEpochs · reductionFactor^k. */
export function isRung(epoch: number, minEpochs: number, reductionFactor: number): boolean {
  let rung = minEpochs;
  while (rung < epoch) rung *= reductionFactor;
  return rung === epoch;
}

const better = (goal: SweepGoal) => (a: number, b: number) => (goal === 'maximize' ? a > b : a < b);

export function formatValue(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

/**
 * Asynchronous successive halving, as a stopping rule: at each rung, a trial
 * continues only if it is in the top 1/reductionFactor of the trials that
 * have reached that rung so far (counting itself; at least the best one
 * continues). The first trial at a rung always continues.
 */
function asha(j: EpochJudgement, minEpochs: number, reductionFactor: number): TrialDecision {
  if (!isRung(j.epoch, minEpochs, reductionFactor)) return CONTINUE;
  const own = j.own[j.epoch - 1];
  if (own === null || own === undefined) return CONTINUE;
  const atRung = j.others.map((s) => s[j.epoch - 1]).filter((v): v is number => typeof v === 'number');
  const n = atRung.length + 1;
  const keep = Math.max(1, Math.floor(n / reductionFactor));
  const rank = 1 + atRung.filter((v) => better(j.objective.goal)(v, own)).length;
  if (rank <= keep) return CONTINUE;
  return {
    stop: true,
    reason:
      `early-stopped by ASHA at the rung of epoch ${j.epoch}: ${j.objective.metric} ${formatValue(own)} ranks ${rank} of the ${n} trials ` +
      `that reached it; only the top ${keep} (1/${reductionFactor}) continue`,
  };
}

/**
 * The median stopping rule: after minEpochs, a trial stops when its best
 * value so far is worse than the median of the other trials' running
 * averages up to the same epoch, once at least minTrials others got there.
 */
function median(j: EpochJudgement, minEpochs: number, minTrials: number): TrialDecision {
  if (j.epoch < minEpochs) return CONTINUE;
  const means = j.others
    .filter((s) => s.length >= j.epoch)
    .map((s) => s.slice(0, j.epoch).filter((v): v is number => typeof v === 'number'))
    .filter((vs) => vs.length > 0)
    .map((vs) => vs.reduce((a, b) => a + b, 0) / vs.length);
  if (means.length < minTrials) return CONTINUE;
  const own = j.own.slice(0, j.epoch).filter((v): v is number => typeof v === 'number');
  if (own.length === 0) return CONTINUE;
  const isBetter = better(j.objective.goal);
  const best = own.reduce((a, b) => (isBetter(b, a) ? b : a));
  const sorted = [...means].sort((a, b) => a - b);
  const mid = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  if (!isBetter(mid, best)) return CONTINUE;
  return {
    stop: true,
    reason:
      `early-stopped by the median stopping rule after epoch ${j.epoch}: its best ${j.objective.metric} ${formatValue(best)} is worse than ` +
      `${formatValue(mid)}, the median of ${means.length} other trials' running averages at that epoch`,
  };
}
