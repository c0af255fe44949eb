import { type LineChart, type LineSeries, lineChart, PALETTE } from '../lib/charts.js';
import { h } from '../lib/dom.js';
import type { SweepMetric } from '../lib/types.js';

export interface ChartTrial {
  index: number;
  jobId: string;
  /** Early stopping ended it: its line is short on purpose. */
  stopped: boolean;
}

/** "#D55E00" → "rgba(213, 94, 0, 0.45)": the other trials fade so that the best one stands out. */
function faded(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/**
 * The objective of every trial per epoch, one line per trial, the best one
 * drawn thick. The x axis spans the epochs a trial may train, so a trial
 * that early stopping cut ends short of the others.
 */
export class SweepChart {
  readonly el: HTMLElement;
  private readonly host: HTMLElement;
  private chart: LineChart | null = null;
  private trials: ChartTrial[] = [];
  private bestJobId: string | null = null;
  private shape = '';
  private xMax = 1;
  private readonly points = new Map<string, Map<number, number | null>>();
  private frame = 0;

  constructor(private readonly metric: SweepMetric) {
    this.host = h('div', { role: 'img', class: 'sweep-chart', 'aria-label': `${metric} per epoch of every trial; the best trial is the thick line` });
    this.el = this.host;
  }

  /** Which trials there are and which is best; rebuilds the chart when that changes (uPlot's series are fixed at creation). */
  setTrials(trials: ChartTrial[], bestJobId: string | null): void {
    this.trials = [...trials].sort((a, b) => a.index - b.index);
    this.bestJobId = bestJobId;
    for (const t of this.trials) if (!this.points.has(t.jobId)) this.points.set(t.jobId, new Map());
    const shape = JSON.stringify([this.trials, bestJobId]);
    if (shape !== this.shape) {
      this.shape = shape;
      this.chart?.destroy();
      this.chart = this.trials.length ? lineChart(this.host, { xLabel: 'epoch', yLabel: this.metric, series: this.series(), height: 280, yRange: this.yRange() }) : null;
      this.chart?.setXMax(this.xMax);
    }
    this.schedule();
  }

  /** The epochs a trial may train at most (the x axis ends there at least). */
  setEpochs(epochs: number): void {
    if (epochs === this.xMax) return;
    this.xMax = Math.max(1, epochs);
    this.chart?.setXMax(this.xMax);
  }

  /** One epoch of one trial; the same epoch again replaces it (a replayed stream, a refetch). */
  addPoint(jobId: string, epoch: number, value: number | null): void {
    let byEpoch = this.points.get(jobId);
    if (!byEpoch) {
      byEpoch = new Map();
      this.points.set(jobId, byEpoch);
    }
    byEpoch.set(epoch, value);
    this.schedule();
  }

  /** Epochs drawn for a trial (how far its line goes). */
  epochsOf(jobId: string): number {
    return this.points.get(jobId)?.size ?? 0;
  }

  private yRange(): [number, number] | undefined {
    return this.metric.toLowerCase().endsWith('accuracy') ? [0, 1] : undefined;
  }

  private series(): LineSeries[] {
    const anyBest = this.bestJobId !== null;
    return this.trials.map((t, i) => {
      const color = PALETTE[i % PALETTE.length];
      const best = t.jobId === this.bestJobId;
      // Past the palette, dashes tell trials of the same colour apart.
      const dash = i >= PALETTE.length ? [6, 3 + 2 * Math.floor(i / PALETTE.length)] : undefined;
      return {
        label: `trial ${t.index}${best ? ' (best)' : ''}${t.stopped ? ' (stopped early)' : ''}`,
        color: best || !anyBest ? color : faded(color, 0.7),
        width: best ? 3.5 : 1.5,
        dash: best ? undefined : dash,
        points: true,
        // A trial cut after one epoch is a lone dot: large enough to see.
        pointSize: t.stopped ? 9 : 6,
      };
    });
  }

  /** Draws once per frame: a replayed stream brings hundreds of points at once. */
  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const xs = [...new Set(this.trials.flatMap((t) => [...(this.points.get(t.jobId)?.keys() ?? [])]))].sort((a, b) => a - b);
    this.chart?.update(
      xs,
      this.trials.map((t) => xs.map((x) => this.points.get(t.jobId)?.get(x) ?? null)),
    );
    // What is drawn, for tests and anyone reading the page's markup: trials in series order with their epochs.
    this.host.dataset.series = String(this.trials.length);
    this.host.dataset.epochs = this.trials.map((t) => `${t.index}:${this.epochsOf(t.jobId)}`).join(' ');
    const best = this.trials.find((t) => t.jobId === this.bestJobId);
    this.host.dataset.bestTrial = best ? String(best.index) : '';
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.chart?.destroy();
  }
}
