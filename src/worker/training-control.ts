import type { Db } from '../storage/prisma.js';
import { getStatus } from '../storage/jobs.repository.js';
import type { NormalizedTrainingSpec } from '../model-spec/index.js';
import { LOCK_LOST } from './lock-lost.error.js';
import { judgeTrial } from '../sweep/trial-judge.js';

/** Why training stopped before its last epoch. */
export type StopCause = { kind: 'cancelled' } | { kind: 'shutdown' } | { kind: 'lock-lost' } | { kind: 'timeout'; limitMs: number } | { kind: 'early-stopping'; reason: string };

const STATUS_CHECK_EVERY_MS = 100;

/**
 * Decides, between batches, whether training must stop: a cancel request
 * (read from the job row, so it works whichever host the API runs on), a
 * worker shutdown or a lost queue lock (the processor's abort signal, told
 * apart by its reason), the wall-time limit, or
 * early stopping at the end of an epoch: the job's own, or, for a sweep's
 * trial, the sweep's (ASHA or the median rule, decided by the sweep
 * controller from every trial's metrics).
 */
export class TrainingControl {
  cause: StopCause | null = null;
  private trial = false;
  private lastCheck = 0;
  private best: number | null = null;
  private bestEpoch = 0;
  private readonly started = performance.now();

  constructor(
    private readonly db: Db,
    private readonly jobId: string,
    private readonly maxWallTimeMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly early: NormalizedTrainingSpec['earlyStopping'],
  ) {}

  /** After each batch. Returns true when training must stop now. */
  async afterBatch(): Promise<boolean> {
    if (this.cause) return true;
    if (this.signal?.aborted) return this.stop(this.signal.reason === LOCK_LOST ? { kind: 'lock-lost' } : { kind: 'shutdown' });
    if (performance.now() - this.started > this.maxWallTimeMs) return this.stop({ kind: 'timeout', limitMs: this.maxWallTimeMs });
    const now = performance.now();
    if (now - this.lastCheck < STATUS_CHECK_EVERY_MS) return false;
    this.lastCheck = now;
    const row = await getStatus(this.db, this.jobId);
    if (!row || row.status === 'cancelling' || row.status === 'cancelled') return this.stop({ kind: 'cancelled' });
    return false;
  }

  /** After each epoch's metrics are known. Returns true when early stopping triggers. */
  afterEpoch(epoch: number, metrics: Record<string, number | null>): boolean {
    if (this.cause || !this.early) return this.cause !== null;
    const { monitor, patience, minDelta } = this.early;
    const value = metrics[monitor];
    if (value === null || value === undefined || !Number.isFinite(value)) return false;
    const lowerIsBetter = monitor.endsWith('loss');
    const improved = this.best === null || (lowerIsBetter ? value < this.best - minDelta : value > this.best + minDelta);
    if (improved) {
      this.best = value;
      this.bestEpoch = epoch;
      return false;
    }
    if (epoch - this.bestEpoch > patience) {
      return this.stop({
        kind: 'early-stopping',
        reason: `early stopping after epoch ${epoch}: ${monitor} did not improve by more than ${minDelta} for ${patience} epoch(s) (best ${this.best!.toFixed(4)} at epoch ${this.bestEpoch})`,
      });
    }
    return false;
  }

  /** Marks the job as a sweep's trial: its sweep may stop it after an epoch (afterTrialEpoch). */
  judgeAsTrial(): void {
    this.trial = true;
  }

  /**
   * After epoch `epoch` is stored (metrics and checkpoint), and once more
   * for the checkpoint's epoch when a trial resumes: true when training
   * must stop, because the sweep stops the trial here (a decision recorded
   * once per epoch, so a resumed trial hears the same) or it stops anyway.
   */
  async afterTrialEpoch(epoch: number): Promise<boolean> {
    if (this.cause || !this.trial || epoch < 1) return this.cause !== null;
    const decision = await judgeTrial(this.db, this.jobId, epoch);
    return decision?.stop ? this.stop({ kind: 'early-stopping', reason: decision.reason }) : false;
  }

  private stop(cause: StopCause): true {
    this.cause = cause;
    return true;
  }
}
