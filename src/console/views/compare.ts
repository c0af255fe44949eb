import { api } from '../lib/api.js';
import { lineChart, PALETTE } from '../lib/charts.js';
import { h, mount } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import type { EpochMetric, Job, Page } from '../lib/types.js';
import { card, emptyState, errorBlock, statusBadge } from '../lib/ui.js';
import type { ViewContext } from '../lib/view.js';
import { jobLabel } from './jobs.js';
import { describeLayer } from './model.js';

interface Run {
  job: Job;
  metrics: EpochMetric[];
  color: string;
}

/** The settings of a run as label → text, for the table of what differs. */
export function settingsOf(job: Job): Map<string, string> {
  const out = new Map<string, string>();
  out.set('dataset', `${job.dataset.id}${job.dataset.limit ? ` (first ${fmt.count(job.dataset.limit)})` : ''}`);
  const training = job.spec?.training ?? {};
  for (const [k, v] of Object.entries(training)) out.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  const model = job.spec?.model;
  if (model) {
    out.set('input', fmt.shape(model.input.shape));
    out.set('layers', String(model.layers.length));
    model.layers.forEach((l, i) => out.set(`layer ${i + 1}`, describeLayer(l)));
  }
  out.set('parameters', fmt.count(job.plan.totalParams));
  out.set('MACs', fmt.compact(job.plan.macs));
  return out;
}

function metricChart(host: HTMLElement, title: string, runs: Run[], pick: (m: EpochMetric) => number | null, yRange?: [number, number]): void {
  const el = h('div', { role: 'img', 'aria-label': `${title} per epoch, one line per run` });
  host.append(h('section', { class: 'card', 'aria-label': title }, h('h2', null, title), el));
  const chart = lineChart(el, {
    xLabel: 'epoch',
    yLabel: title.toLowerCase(),
    series: runs.map((r) => ({ label: jobLabel(r.job), color: r.color, points: true })),
    height: 220,
    yRange,
  });
  const xs = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.epoch)))].sort((a, b) => a - b);
  chart.setXMax(Math.max(1, ...runs.map((r) => r.job.progress.epochs)));
  chart.update(
    xs,
    runs.map((r) =>
      xs.map((x) => {
        const m = r.metrics.find((e) => e.epoch === x);
        return m ? pick(m) : null;
      }),
    ),
  );
}

export async function compareView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const selected = new Set((ctx.route.query.get('ids') ?? '').split(',').filter(Boolean));
  const recent = await api.get<Page<Job>>('/v1/jobs?limit=50', { signal });
  const results = h('div', { class: 'compare-results' });
  const showAll = h('input', { type: 'checkbox', id: 'show-all-settings' });

  const picker = h(
    'fieldset',
    { class: 'run-picker' },
    h('legend', null, 'Runs to compare'),
    recent.items.length
      ? h(
          'ul',
          null,
          recent.items.map((j) => {
            const box = h('input', { type: 'checkbox', id: `run-${j.id}`, value: j.id, checked: selected.has(j.id) });
            box.addEventListener('change', () => {
              if (box.checked) selected.add(j.id);
              else selected.delete(j.id);
              history.replaceState(null, '', href('/compare', selected.size ? { ids: [...selected].join(',') } : undefined));
              void load();
            });
            return h('li', null, box, h('label', { for: box.id }, jobLabel(j), ' ', statusBadge(j.status), h('span', { class: 'sub' }, ` ${fmt.ago(j.createdAt)}`)));
          }),
        )
      : h('p', { class: 'sub' }, 'No jobs yet.'),
  );

  let seq = 0;
  async function load(): Promise<void> {
    const mine = ++seq;
    if (selected.size === 0) {
      mount(results, emptyState('Pick two or more runs to see their curves side by side and the settings that differ.'));
      return;
    }
    let runs: Run[];
    try {
      runs = await Promise.all(
        [...selected].map(async (id, i) => {
          const [job, metrics] = await Promise.all([
            api.get<Job>(`/v1/jobs/${encodeURIComponent(id)}`, { signal }),
            api.get<{ items: EpochMetric[] }>(`/v1/jobs/${encodeURIComponent(id)}/metrics`, { signal }),
          ]);
          return { job, metrics: metrics.items, color: PALETTE[i % PALETTE.length] };
        }),
      );
    } catch (err) {
      if ((err as Error).name !== 'AbortError') mount(results, errorBlock(err));
      return;
    }
    if (mine !== seq) return;
    const charts = h('div', { class: 'chart-grid' });
    const settings = runs.map((r) => settingsOf(r.job));
    const keys = [...new Set(settings.flatMap((s) => [...s.keys()]))];
    const differs = (k: string) => new Set(settings.map((s) => s.get(k) ?? '—')).size > 1;
    const rows = keys.filter((k) => showAll.checked || differs(k));
    const diffTable = h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'diff-table' },
        h('caption', { class: 'visually-hidden' }, showAll.checked ? 'All settings of the runs' : 'Settings that differ between the runs'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'Setting'),
            runs.map((r) => h('th', { scope: 'col' }, h('span', { class: 'swatch', 'data-color': r.color }), jobLabel(r.job))),
          ),
        ),
        h(
          'tbody',
          null,
          // A cell is marked when it differs from the first run's value.
          rows.map((k) =>
            h(
              'tr',
              { class: differs(k) ? 'diff' : '' },
              h('th', { scope: 'row' }, k),
              settings.map((s, i) => h('td', { class: i > 0 && s.get(k) !== settings[0].get(k) ? 'changed' : '' }, s.get(k) ?? '—')),
            ),
          ),
        ),
      ),
    );
    const summary = h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        null,
        h('caption', { class: 'visually-hidden' }, 'Results of the runs'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Run', 'State', 'Epochs', 'Best val acc.', 'Last val loss', 'Test acc.', 'Duration'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          null,
          runs.map((r) => {
            const best = Math.max(...r.metrics.map((m) => m.valAccuracy ?? -1));
            return h(
              'tr',
              null,
              h('th', { scope: 'row' }, h('span', { class: 'swatch', 'data-color': r.color }), h('a', { href: href(`/jobs/${r.job.id}`) }, jobLabel(r.job))),
              h('td', null, statusBadge(r.job.status)),
              h('td', { class: 'num' }, `${r.metrics.length}/${r.job.progress.epochs}`),
              h('td', { class: 'num' }, best >= 0 ? fmt.percent(best, 2) : '—'),
              h('td', { class: 'num' }, fmt.metric(r.metrics.at(-1)?.valLoss)),
              h('td', { class: 'num' }, fmt.percent(r.job.test?.accuracy, 2)),
              h('td', { class: 'num' }, fmt.duration(r.job.durationMs)),
            );
          }),
        ),
      ),
    );
    mount(
      results,
      card('Results', summary),
      charts,
      card(
        'Settings',
        h('div', { class: 'checkbox' }, showAll, h('label', { for: showAll.id }, 'Show the settings that are the same too')),
        rows.length ? diffTable : h('p', { class: 'sub' }, runs.length > 1 ? 'These runs have the same settings.' : 'Pick another run to see what differs.'),
      ),
    );
    // Swatches take their colour from data, set through the CSSOM (no inline style attribute under the CSP).
    for (const s of results.querySelectorAll<HTMLElement>('.swatch')) s.style.background = s.dataset.color ?? '';
    metricChart(charts, 'Validation loss', runs, (m) => m.valLoss);
    metricChart(charts, 'Validation accuracy', runs, (m) => m.valAccuracy, [0, 1]);
    metricChart(charts, 'Training loss', runs, (m) => m.loss);
    metricChart(charts, 'Training accuracy', runs, (m) => m.accuracy, [0, 1]);
    signal.addEventListener('abort', () => charts.replaceChildren(), { once: true });
  }
  showAll.addEventListener('change', () => void load());
  await load();

  return h(
    'section',
    { class: 'page compare-page' },
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'Compare runs'), h('p', { class: 'sub' }, 'Curves of several jobs overlaid, and the hyperparameters and layers that differ.')),
    ),
    h('div', { class: 'compare-grid' }, picker, results),
  );
}
