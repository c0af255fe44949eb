import { api, query } from '../lib/api.js';
import { field, h, mount, option } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import { type Distribution, type Page, SWEEP_STATUSES, type Sweep, type SweepMetric } from '../lib/types.js';
import { emptyState, errorBlock, progressBar, setStatusBadge } from '../lib/ui.js';
import { every, type ViewContext } from '../lib/view.js';

const REFRESH_MS = 2000;
const PAGE = 25;

export function sweepLabel(sweep: Pick<Sweep, 'id' | 'name'>): string {
  return sweep.name ?? `sweep ${sweep.id.slice(0, 8)}`;
}

/** An objective value as its metric reads best: accuracies in percent, losses as numbers. */
export function objectiveText(metric: SweepMetric, value: number | null | undefined): string {
  return metric.toLowerCase().endsWith('accuracy') ? fmt.percent(value, 2) : fmt.metric(value);
}

/** "valAccuracy ↑": the metric and which way is better. */
export function objectiveName(objective: Sweep['objective']): string {
  return `${objective.metric} ${objective.goal === 'maximize' ? '↑' : '↓'}`;
}

/** A sampled value: integers exactly, other numbers to 3 significant digits (learning rates), anything else as JSON. */
export function paramText(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : fmt.rate(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** `{"logUniform": [0.0001, 0.01]}` → "log-uniform 0.0001 – 0.01". */
export function distributionText(d: Distribution): string {
  if ('values' in d) return `one of ${d.values.map(paramText).join(', ')}`;
  if ('logUniform' in d) return `log-uniform ${paramText(d.logUniform[0])} – ${paramText(d.logUniform[1])}`;
  if ('intUniform' in d) return `integers ${d.intUniform[0]} – ${d.intUniform[1]}`;
  if ('uniform' in d) return `uniform ${paramText(d.uniform[0])} – ${paramText(d.uniform[1])}`;
  return JSON.stringify(d);
}

/** Trials that have ended, whatever their outcome. */
export function trialsDone(sweep: Pick<Sweep, 'progress'>): number {
  const p = sweep.progress;
  return p.succeeded + p.failed + p.cancelled;
}

/** One row, updated in place so that focus survives the live refresh. */
class SweepRow {
  readonly el: HTMLTableRowElement;
  private readonly link: HTMLAnchorElement;
  private readonly badge = h('span');
  private readonly bar = progressBar('Trials done');
  private readonly progressText = h('span', { class: 'progress-text' });
  private readonly best = h('td', { class: 'num' });
  private last = '';

  constructor(sweep: Sweep) {
    this.link = h('a', { href: href(`/sweeps/${sweep.id}`) });
    this.bar.setAttribute('aria-label', `Trials done of ${sweepLabel(sweep)}`);
    this.el = h(
      'tr',
      { 'data-sweep-id': sweep.id },
      h('th', { scope: 'row', class: 'name-cell' }, this.link, h('div', { class: 'sub mono' }, sweep.id.slice(0, 8))),
      h('td', null, this.badge),
      h('td', null, sweep.algorithm),
      h('td', null, objectiveName(sweep.objective)),
      h('td', { class: 'progress-cell' }, this.bar, this.progressText),
      this.best,
      h('td', { class: 'wide-only', title: fmt.timestamp(sweep.createdAt) }, fmt.ago(sweep.createdAt)),
    );
    this.update(sweep);
  }

  update(sweep: Sweep): void {
    const key = JSON.stringify([sweep.status, sweep.progress, sweep.best, sweep.name]);
    if (key === this.last) return;
    this.last = key;
    this.link.textContent = sweepLabel(sweep);
    setStatusBadge(this.badge, sweep.status);
    const done = trialsDone(sweep);
    this.bar.value = sweep.maxTrials > 0 ? (100 * done) / sweep.maxTrials : 0;
    const p = sweep.progress;
    const extra = [p.running ? `${p.running} running` : '', p.earlyStopped ? `${p.earlyStopped} stopped early` : '', p.failed ? `${p.failed} failed` : '']
      .filter(Boolean)
      .join(' · ');
    this.progressText.textContent = `${done} / ${sweep.maxTrials} trials${extra ? ` · ${extra}` : ''}`;
    mount(this.best, sweep.best ? [objectiveText(sweep.objective.metric, sweep.best.objective), h('div', { class: 'sub' }, `trial ${sweep.best.trial}`)] : '—');
  }
}

export async function sweepsView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const statusSelect = h(
    'select',
    { name: 'status' },
    option('', 'All states'),
    SWEEP_STATUSES.map((s) => option(s, s, ctx.route.query.get('status') === s)),
  );
  const rowsBody = h('tbody');
  const tableHost = h('div', { class: 'table-wrap' });
  const errorHost = h('div');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more');
  const rows = new Map<string, SweepRow>();
  let limit = PAGE;

  const table = h(
    'table',
    { class: 'sweeps-table' },
    h('caption', { class: 'visually-hidden' }, 'Sweeps, newest first; the list refreshes by itself'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['Name', 'State', 'Algorithm', 'Objective', 'Progress'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col', class: 'num' }, 'Best so far'),
        h('th', { scope: 'col', class: 'wide-only' }, 'Created'),
      ),
    ),
    rowsBody,
  );

  async function refresh(): Promise<void> {
    let page: Page<Sweep>;
    try {
      page = await api.get<Page<Sweep>>(`/v1/sweeps${query({ limit, status: statusSelect.value })}`, { signal });
    } catch (err) {
      if ((err as Error).name !== 'AbortError') mount(errorHost, errorBlock(err));
      return;
    }
    mount(errorHost);
    if (page.items.length === 0) {
      rows.clear();
      mount(
        tableHost,
        emptyState(
          statusSelect.value ? 'No sweep in this state.' : 'No sweeps yet. A sweep trains one job many times with different settings and keeps the best trial.',
          h('a', { href: '#/sweeps/new', class: 'button primary' }, 'Start a sweep'),
        ),
      );
      more.hidden = true;
      return;
    }
    if (!tableHost.contains(table)) mount(tableHost, table);
    const ordered: HTMLTableRowElement[] = [];
    const seen = new Set<string>();
    for (const sweep of page.items) {
      seen.add(sweep.id);
      let row = rows.get(sweep.id);
      if (row) row.update(sweep);
      else {
        row = new SweepRow(sweep);
        rows.set(sweep.id, row);
      }
      ordered.push(row.el);
    }
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    // Re-append only when the order changed, so a focused link is not moved.
    const same = ordered.length === rowsBody.children.length && ordered.every((r, i) => rowsBody.children[i] === r);
    if (!same) rowsBody.replaceChildren(...ordered);
    more.hidden = !page.nextCursor || limit >= 100;
  }

  statusSelect.addEventListener('change', () => {
    history.replaceState(null, '', href('/sweeps', statusSelect.value ? { status: statusSelect.value } : undefined));
    void refresh();
  });
  more.addEventListener('click', () => {
    limit = Math.min(100, limit + PAGE);
    void refresh();
  });

  await refresh();
  every(REFRESH_MS, signal, refresh);

  return h(
    'section',
    { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Sweeps'), h('a', { href: '#/sweeps/new', class: 'button primary' }, 'New sweep')),
    h('div', { class: 'toolbar', role: 'search', 'aria-label': 'Filter sweeps' }, field('State', statusSelect).wrap),
    errorHost,
    tableHost,
    h('div', { class: 'actions' }, more),
    h('p', { class: 'hint' }, 'States, progress and the best trial update by themselves. Progress counts trials that ended (succeeded, failed or cancelled) against the budget.'),
  );
}
