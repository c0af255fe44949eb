import uPlot from 'uplot';

/** Okabe–Ito colours: told apart by people with any common colour-vision deficiency. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#8c564b'];

export interface LineSeries {
  label: string;
  color: string;
  dash?: number[];
  width?: number;
  /** Draw a dot at each value (per-epoch series); thin lines without dots suit dense per-batch series. */
  points?: boolean;
  /** Diameter of those dots in CSS pixels (default 6). */
  pointSize?: number;
}

export interface LineChart {
  /** x ascending; one array per series, aligned with x (null: no value there). */
  update(x: number[], ys: (number | null)[][]): void;
  /** Where the x axis ends at least (a job's epochs: the curve shows how far it has come). */
  setXMax(max: number): void;
  destroy(): void;
}

/** A chart is often built before its view is in the page (no width yet): guess from the window, then follow the host. */
function initialWidth(host: HTMLElement, preferred: number): number {
  return Math.max(200, host.clientWidth || Math.min(preferred, window.innerWidth - 64));
}

function observeWidth(host: HTMLElement, resize: (width: number) => void): ResizeObserver {
  const ro = new ResizeObserver(() => resize(Math.max(200, Math.floor(host.clientWidth))));
  ro.observe(host);
  return ro;
}

const axisStyle = {
  stroke: '#3f4654',
  grid: { stroke: '#e5e7eb', width: 1 },
  ticks: { stroke: '#d1d5db', width: 1 },
};

/** Curves over epochs (x may be fractional: per-batch points inside an epoch). */
export function lineChart(
  host: HTMLElement,
  opts: {
    xLabel: string;
    yLabel: string;
    series: LineSeries[];
    height?: number;
    yRange?: [number, number];
  },
): LineChart {
  host.classList.add('chart');
  let xMax = 1;
  const data: uPlot.AlignedData = [[], ...opts.series.map(() => [])];
  const plot = new uPlot(
    {
      width: initialWidth(host, 600),
      height: opts.height ?? 240,
      scales: {
        x: { time: false, range: (_u, _min, max) => [0, Math.max(xMax, Math.ceil(max ?? 1))] },
        y: opts.yRange
          ? { range: opts.yRange }
          : {
              range: (_u, min, max) => (min === max ? [min - 1, max + 1] : [Math.min(0, min), max * 1.05]),
            },
      },
      axes: [
        {
          ...axisStyle,
          label: opts.xLabel,
          // Whole epochs on the axis; per-batch points fall between them.
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
          values: (_u, splits) => splits.map((v) => String(v)),
        },
        { ...axisStyle, label: opts.yLabel, size: 56 },
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [
        {
          label: opts.xLabel,
          value: (_u, v) => (v === null || v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(2)),
        },
        ...opts.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 2,
          dash: s.dash,
          spanGaps: true,
          points: { show: s.points ?? false, size: s.pointSize ?? 6, fill: s.color },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : v.toFixed(4)),
        })),
      ],
    },
    data,
    host,
  );
  const ro = observeWidth(host, (width) => plot.setSize({ width, height: opts.height ?? 240 }));
  return {
    update(x, ys) {
      plot.setData([x, ...ys] as uPlot.AlignedData);
    },
    setXMax(max) {
      xMax = Math.max(1, max);
      plot.setScale('x', { min: 0, max: Math.max(xMax, Math.ceil(plot.data[0].at(-1) ?? 1)) });
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
    },
  };
}

export interface BarChart {
  update(values: number[]): void;
  destroy(): void;
}

/** Vertical bars, one per category (class probabilities, class counts). */
export function barChart(
  host: HTMLElement,
  opts: {
    labels: string[];
    label: string;
    color?: string;
    height?: number;
    yMax?: number;
    format?: (v: number) => string;
  },
): BarChart {
  host.classList.add('chart');
  const n = opts.labels.length;
  const x = opts.labels.map((_, i) => i);
  const format = opts.format ?? ((v: number) => String(v));
  const bars = uPlot.paths.bars!({ size: [0.7, 64], align: 0 });
  const plot = new uPlot(
    {
      width: initialWidth(host, 400),
      height: opts.height ?? 200,
      scales: {
        x: { time: false, range: [-0.5, n - 0.5] },
        y: {
          range: (_u, _min, max) => [0, opts.yMax ?? (max > 0 ? max * 1.1 : 1)],
        },
      },
      axes: [
        {
          ...axisStyle,
          grid: { show: false },
          splits: () => x,
          values: (_u, splits) => splits.map((i) => opts.labels[i] ?? ''),
          gap: 4,
        },
        { ...axisStyle, size: 52, values: (_u, splits) => splits.map(format) },
      ],
      legend: { show: false },
      cursor: { show: false },
      series: [
        {},
        {
          label: opts.label,
          fill: opts.color ?? PALETTE[0],
          stroke: opts.color ?? PALETTE[0],
          paths: bars,
          points: { show: false },
        },
      ],
    },
    [x, x.map(() => 0)],
    host,
  );
  const ro = observeWidth(host, (width) => plot.setSize({ width, height: opts.height ?? 200 }));
  return {
    update(values) {
      plot.setData([x, values]);
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
    },
  };
}
