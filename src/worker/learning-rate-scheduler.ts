import type * as tf from '@tensorflow/tfjs';
import { Type, type Static } from 'typebox';
import type { MonitoredMetric, NormalizedLearningRateSchedule } from '../model-spec/index.js';
import { readStoredJson } from '../storage/stored-json.js';

/**
 * What reduceOnPlateau has learnt from the epochs so far: the rate it trains
 * at now, the best value of its metric, the epochs since that improved and
 * the cooldown left. Saved with each checkpoint, so a resumed job goes on
 * with the same rate and counters (the other schedules depend on the epoch
 * and batch alone).
 */
export const ScheduleStateSchema = Type.Object(
  {
    learningRate: Type.Number({ exclusiveMinimum: 0 }),
    best: Type.Union([Type.Number(), Type.Null()]),
    wait: Type.Integer({ minimum: 0 }),
    cooldownLeft: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ScheduleState = Static<typeof ScheduleStateSchema>;

export type EpochMetrics = Record<MonitoredMetric, number | null>;

/**
 * The learning rate of every batch. Step, exponential and cosine decay
 * change it per epoch; a cosine warm-up raises it per batch (a rate that
 * jumps once per epoch would start the first epoch far below the rate and
 * the warm-up's whole point is a smooth start). reduceOnPlateau changes it
 * between epochs, from the metrics.
 */
export class LearningRateScheduler {
  private plateau: ScheduleState | null;

  constructor(
    private readonly base: number,
    private readonly schedule: NormalizedLearningRateSchedule | undefined,
    private readonly epochs: number,
  ) {
    this.plateau = schedule?.type === 'reduceOnPlateau' ? { learningRate: base, best: null, wait: 0, cooldownLeft: 0 } : null;
  }

  /** The rate of batch `batch` (0-based) of epoch `epoch` (1-based), with `batches` batches per epoch. */
  rateAt(epoch: number, batch: number, batches: number): number {
    const s = this.schedule;
    const base = this.base;
    switch (s?.type) {
      case undefined:
        return base;
      case 'step':
        return base * s.factor ** Math.floor((epoch - 1) / s.stepEpochs);
      case 'exponential':
        return base * s.factor ** (epoch - 1);
      case 'cosine': {
        const w = s.warmupEpochs;
        if (epoch <= w) return (base * ((epoch - 1) * batches + batch + 1)) / (w * batches);
        const progress = (epoch - w - 1) / (this.epochs - w);
        return s.minLearningRate + ((base - s.minLearningRate) * (1 + Math.cos(Math.PI * progress))) / 2;
      }
      case 'reduceOnPlateau':
        return this.plateau!.learningRate;
    }
  }

  /** The rate recorded with an epoch's metrics: the one its last batch trained at (the epoch's only one, outside a warm-up). */
  epochRate(epoch: number, batches: number): number {
    return this.rateAt(epoch, batches - 1, batches);
  }

  /** After each finished epoch: reduceOnPlateau compares its metric with the best so far and may lower the rate for the epochs after. */
  afterEpoch(metrics: EpochMetrics): void {
    const s = this.schedule;
    const p = this.plateau;
    if (s?.type !== 'reduceOnPlateau' || !p) return;
    const value = metrics[s.monitor];
    if (value === null || !Number.isFinite(value)) return;
    const lowerIsBetter = s.monitor.endsWith('loss');
    if (p.best === null || (lowerIsBetter ? value < p.best - s.minDelta : value > p.best + s.minDelta)) {
      p.best = value;
      p.wait = 0;
    } else {
      p.wait++;
    }
    // An epoch of the cooldown after a reduction does not count against patience.
    if (p.cooldownLeft > 0) {
      p.cooldownLeft--;
      p.wait = 0;
    }
    // As early stopping counts patience: that many epochs without improvement are tolerated, the next one acts.
    if (p.wait <= s.patience) return;
    p.learningRate = Math.max(p.learningRate * s.factor, s.minLearningRate);
    p.cooldownLeft = s.cooldown;
    p.wait = 0;
  }

  /** What a checkpoint keeps of this scheduler; null when nothing beyond the epoch number decides the rate. */
  state(): ScheduleState | null {
    return this.plateau && { ...this.plateau };
  }

  /** Continues from a checkpoint's state. Throws when the schedule needs one and `saved` is missing or malformed. */
  restore(saved: unknown, what: string): void {
    if (!this.plateau) return;
    if (saved === null || saved === undefined) throw new Error(`${what} has no learning-rate schedule state`);
    this.plateau = { ...readStoredJson(ScheduleStateSchema, saved, what) };
  }
}

/**
 * Sets the rate an optimizer steps with. tfjs reads it at every step: SGD
 * and momentum keep it as a scalar that `setLearningRate` replaces; Adam and
 * RMSProp read their `learningRate` field.
 */
export function setOptimizerLearningRate(optimizer: tf.Optimizer, rate: number): void {
  if ('setLearningRate' in optimizer && typeof optimizer.setLearningRate === 'function') {
    optimizer.setLearningRate(rate);
    return;
  }
  if (!('learningRate' in optimizer)) throw new Error(`cannot set the learning rate of optimizer ${optimizer.getClassName()}`);
  optimizer.learningRate = rate;
}
