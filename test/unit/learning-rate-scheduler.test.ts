import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOptimizer, normalizeTrainingSpec, type LearningRateSchedule, type OptimizerName } from '../../src/model-spec/index.js';
import { LearningRateScheduler, setOptimizerLearningRate, type EpochMetrics } from '../../src/worker/learning-rate-scheduler.js';
import { StoredJsonError } from '../../src/storage/stored-json.js';

/** A scheduler as the trainer builds it: from the normalised training settings. */
function scheduler(schedule: LearningRateSchedule, epochs = 6, learningRate = 0.1) {
  const training = normalizeTrainingSpec({ learningRate, epochs, learningRateSchedule: schedule });
  return new LearningRateScheduler(training.learningRate, training.learningRateSchedule, training.epochs);
}

const perEpoch = (s: LearningRateScheduler, epochs: number, batches = 4) => Array.from({ length: epochs }, (_, i) => s.epochRate(i + 1, batches));
const close = (values: number[]) => values.map((v) => Number(v.toPrecision(10)));
const val = (valLoss: number): EpochMetrics => ({ loss: 1, accuracy: 0.5, val_loss: valLoss, val_accuracy: 0.5 });

describe('LearningRateScheduler', () => {
  it('keeps the rate without a schedule', () => {
    expect(perEpoch(new LearningRateScheduler(0.01, undefined, 3), 3)).toEqual([0.01, 0.01, 0.01]);
  });

  it('steps: the rate times factor every stepEpochs epochs', () => {
    expect(close(perEpoch(scheduler({ type: 'step', stepEpochs: 2, factor: 0.5 }), 6))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  });

  it('decays exponentially: the rate times factor after every epoch', () => {
    expect(close(perEpoch(scheduler({ type: 'exponential', factor: 0.5 }), 4))).toEqual([0.1, 0.05, 0.025, 0.0125]);
  });

  it('follows a half cosine from the rate towards minLearningRate', () => {
    const rates = perEpoch(scheduler({ type: 'cosine', minLearningRate: 0.02 }, 4), 4);
    const cos = (t: number) => 0.02 + (0.08 * (1 + Math.cos(Math.PI * t))) / 2;
    expect(close(rates)).toEqual(close([0.1, cos(0.25), cos(0.5), cos(0.75)]));
    expect(rates[2]).toBeCloseTo(0.06, 12);
  });

  it('warms up batch by batch, then decays per epoch from the full rate', () => {
    const s = scheduler({ type: 'cosine', warmupEpochs: 2 }, 6);
    const warmup = Array.from({ length: 8 }, (_, i) => s.rateAt(1 + Math.floor(i / 4), i % 4, 4));
    expect(close(warmup)).toEqual(close([1, 2, 3, 4, 5, 6, 7, 8].map((k) => (0.1 * k) / 8)));
    // The epoch's rate is its last batch's: half the rate after the first of two warm-up epochs.
    expect(close(perEpoch(s, 6))).toEqual(close([0.05, 0.1, 0.1, (0.1 * (1 + Math.cos(Math.PI / 4))) / 2, 0.05, (0.1 * (1 + Math.cos((3 * Math.PI) / 4))) / 2]));
    // Within an epoch after warm-up the rate does not move.
    expect(s.rateAt(4, 0, 4)).toBe(s.rateAt(4, 3, 4));
  });

  it('reduces on a plateau after `patience` epochs without improvement, waits out the cooldown, and stops at minLearningRate', () => {
    const s = scheduler({ type: 'reduceOnPlateau', patience: 1, factor: 0.5, cooldown: 1, minDelta: 0.01, minLearningRate: 0.03 }, 20);
    const rates: number[] = [];
    // Epochs 1-2 improve; 3 is within minDelta of the best (no improvement), 4 the second without: reduce.
    for (const v of [1, 0.9, 0.895, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]) {
      rates.push(s.epochRate(rates.length + 1, 4));
      s.afterEpoch(val(v));
    }
    // After epoch 4: 0.05. Epoch 5 is cooldown; 6 and 7 without improvement: 0.03 (the floor, not 0.025); then no lower.
    expect(close(rates)).toEqual([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03]);
  });

  it('watches accuracy upwards, and ignores an epoch without the metric', () => {
    const s = scheduler({ type: 'reduceOnPlateau', monitor: 'val_accuracy', patience: 0, minDelta: 0 }, 10);
    s.afterEpoch({ ...val(1), val_accuracy: 0.5 });
    s.afterEpoch({ ...val(1), val_accuracy: 0.6 });
    s.afterEpoch({ ...val(1), val_accuracy: null });
    expect(s.epochRate(4, 1)).toBe(0.1);
    s.afterEpoch({ ...val(1), val_accuracy: 0.6 });
    expect(s.epochRate(5, 1)).toBeCloseTo(0.01, 12);
  });

  it('resumes from a saved state exactly as if it had never stopped', () => {
    const losses = [1, 0.8, 0.85, 0.84, 0.9, 0.7, 0.75, 0.76, 0.77, 0.78];
    const schedule: LearningRateSchedule = { type: 'reduceOnPlateau', patience: 1, factor: 0.5, cooldown: 1 };
    const straight = scheduler(schedule, 10);
    const run = (s: LearningRateScheduler, from: number, to: number) =>
      losses.slice(from, to).map((v, i) => {
        const rate = s.epochRate(from + i + 1, 4);
        s.afterEpoch(val(v));
        return rate;
      });
    const expected = run(straight, 0, 10);
    const first = scheduler(schedule, 10);
    const before = run(first, 0, 4);
    // What a checkpoint stores goes through JSON.
    const resumed = scheduler(schedule, 10);
    resumed.restore(JSON.parse(JSON.stringify(first.state())), 'checkpoint of epoch 4');
    expect([...before, ...run(resumed, 4, 10)]).toEqual(expected);
    expect(new Set(expected).size).toBeGreaterThan(1);
  });

  it('needs a saved state only for reduceOnPlateau, and refuses a missing or malformed one', () => {
    expect(scheduler({ type: 'cosine' }).state()).toBeNull();
    expect(() => scheduler({ type: 'cosine' }).restore(undefined, 'x')).not.toThrow();
    expect(() => scheduler({ type: 'reduceOnPlateau' }).restore(null, 'checkpoint of epoch 3')).toThrow('checkpoint of epoch 3 has no learning-rate schedule state');
    expect(() => scheduler({ type: 'reduceOnPlateau' }).restore({ learningRate: 0.1, best: 1, wait: -1, cooldownLeft: 0 }, 'checkpoint of epoch 3')).toThrow(StoredJsonError);
  });
});

describe('setOptimizerLearningRate', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  /** One step of `optimizer` on w = [1, 2] with gradient [0.5, -1]; returns w after. */
  function step(optimizer: tf.Optimizer): number[] {
    const w = tf.variable(tf.tensor1d([1, 2]), true, `w${Math.random()}`);
    optimizer.applyGradients({ [w.name]: tf.tensor1d([0.5, -1]) });
    const out = Array.from(w.dataSync());
    w.dispose();
    return out;
  }

  it.each(['sgd', 'momentum', 'adam', 'rmsprop'] as OptimizerName[])('%s steps with the new rate', (optimizer) => {
    const changed = buildOptimizer(normalizeTrainingSpec({ optimizer, learningRate: 0.5 }));
    setOptimizerLearningRate(changed, 0.01);
    const fresh = buildOptimizer(normalizeTrainingSpec({ optimizer, learningRate: 0.01 }));
    const unchanged = buildOptimizer(normalizeTrainingSpec({ optimizer, learningRate: 0.5 }));
    const after = step(changed);
    expect(after).toEqual(step(fresh));
    expect(after).not.toEqual(step(unchanged));
    for (const o of [changed, fresh, unchanged]) o.dispose();
  });
});
