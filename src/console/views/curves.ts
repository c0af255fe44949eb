import { type LineChart, lineChart, PALETTE } from '../lib/charts.js';
import { h } from '../lib/dom.js';
import type { EpochMetric } from '../lib/types.js';

/** A point of the in-epoch series: the mean loss and accuracy of the epoch's batches so far. */
export interface BatchPoint {
  x: number;
  loss: number | null;
  accuracy: number | null;
}

/**
 * The loss and accuracy charts of one job: per-epoch train and validation
 * values, and the running mean of the current epoch's batches between them.
 */
export class JobCurves {
  readonly el: HTMLElement;
  private readonly loss: LineChart;
  private readonly accuracy: LineChart;
  private readonly epochs = new Map<number, EpochMetric>();
  private batches: BatchPoint[] = [];
  private readonly summary = h('p', {
    class: 'visually-hidden',
    'aria-live': 'polite',
  });

  constructor() {
    const lossHost = h('div', {
      role: 'img',
      'aria-label': 'Loss per epoch: training, validation, and the running mean of the current epoch',
    });
    const accHost = h('div', {
      role: 'img',
      'aria-label': 'Accuracy per epoch: training, validation, and the running mean of the current epoch',
    });
    this.el = h(
      'div',
      { class: 'chart-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'loss-title' }, h('h2', { id: 'loss-title' }, 'Loss'), lossHost),
      h('section', { class: 'card', 'aria-labelledby': 'acc-title' }, h('h2', { id: 'acc-title' }, 'Accuracy'), accHost),
      this.summary,
    );
    const series = (what: string) => [
      { label: `train ${what} (epoch)`, color: PALETTE[0], points: true },
      { label: `val ${what} (epoch)`, color: PALETTE[1], points: true },
      {
        label: `train ${what} (batches)`,
        color: PALETTE[5],
        width: 1.5,
        dash: [4, 3],
      },
    ];
    this.loss = lineChart(lossHost, {
      xLabel: 'epoch',
      yLabel: 'loss',
      series: series('loss'),
    });
    this.accuracy = lineChart(accHost, {
      xLabel: 'epoch',
      yLabel: 'accuracy',
      series: series('acc'),
      yRange: [0, 1],
    });
  }

  addEpoch(m: EpochMetric): void {
    this.epochs.set(m.epoch, m);
    // Batch points of finished epochs stay; the epoch point now stands for the whole epoch.
    this.draw();
  }

  addBatch(p: BatchPoint): void {
    if (p.loss === null && p.accuracy === null) return;
    const last = this.batches[this.batches.length - 1];
    if (last && last.x === p.x) return;
    this.batches.push(p);
    this.draw();
  }

  /** The x axis spans the job's epochs. */
  setEpochs(epochs: number): void {
    this.loss.setXMax(epochs);
    this.accuracy.setXMax(epochs);
  }

  /** Points shown so far (tests and the screen-reader summary read these). */
  get pointCount(): { epochs: number; batches: number } {
    return { epochs: this.epochs.size, batches: this.batches.length };
  }

  private draw(): void {
    const xs = new Set<number>([...this.epochs.keys(), ...this.batches.map((b) => b.x)]);
    const x = [...xs].sort((a, b) => a - b);
    const byX = new Map(this.batches.map((b) => [b.x, b]));
    const col = <T>(f: (xv: number) => T | null | undefined) => x.map((xv) => f(xv) ?? null);
    this.loss.update(x, [col((v) => this.epochs.get(v)?.loss), col((v) => this.epochs.get(v)?.valLoss), col((v) => byX.get(v)?.loss)]);
    this.accuracy.update(x, [col((v) => this.epochs.get(v)?.accuracy), col((v) => this.epochs.get(v)?.valAccuracy), col((v) => byX.get(v)?.accuracy)]);
    this.el.dataset.epochPoints = String(this.epochs.size);
    this.el.dataset.batchPoints = String(this.batches.length);
    const lastEpoch = [...this.epochs.values()].at(-1);
    if (lastEpoch)
      this.summary.textContent = `Epoch ${lastEpoch.epoch}: loss ${lastEpoch.loss?.toFixed(4) ?? '—'}, validation accuracy ${lastEpoch.valAccuracy !== null ? `${(lastEpoch.valAccuracy * 100).toFixed(1)}%` : '—'}`;
  }

  destroy(): void {
    this.loss.destroy();
    this.accuracy.destroy();
  }
}
