import type { SweepMetric } from '../queue/sweep-document.js';
import type { Db } from '../storage/prisma.js';
import { judgeTrialEpoch, type Judged, type LastEpoch } from '../storage/sweeps.repository.js';
import { judgeEpoch } from './early-stopping.js';

/** [epoch 1, epoch 2, ...] of one metric; an epoch without a row is null. */
function seriesOf(rows: LastEpoch[], metric: SweepMetric): (number | null)[] {
  const out: (number | null)[] = [];
  for (const row of rows) out[row.epoch - 1] = row[metric];
  return Array.from(out, (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
}

/**
 * After epoch `epoch` of job `jobId` is stored: whether the sweep it is a
 * trial of stops it now (ASHA or the median rule), decided once per epoch
 * and recorded. null when the job is not a trial; never stops a trial of a
 * sweep without early stopping.
 */
export function judgeTrial(db: Db, jobId: string, epoch: number): Promise<Judged | null> {
  return judgeTrialEpoch(db, jobId, epoch, ({ sweep, jobId: own, epoch: at, epochs, series }) => {
    const rule = sweep.spec.earlyStopping;
    if (!rule) return { stop: false };
    const { metric } = sweep.spec.objective;
    return judgeEpoch({
      rule,
      objective: sweep.spec.objective,
      epoch: at,
      epochs,
      own: seriesOf(series.get(own) ?? [], metric),
      others: [...series].filter(([id]) => id !== own).map(([, rows]) => seriesOf(rows, metric)),
    });
  });
}
