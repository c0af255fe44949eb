import { h, mount } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import type { Sweep, SweepTrial } from '../lib/types.js';
import { card, details, statusBadge } from '../lib/ui.js';
import { distributionText, objectiveName, objectiveText, paramText } from './sweeps.js';

/* Parts of the sweep page that depend on the sweep alone: its summary and settings, the trials table and its rows. */

/** The epochs a trial may train: its own sampled `training.epochs`, else the base job's. */
export function plannedEpochs(sweep: Sweep, trial: SweepTrial): number | null {
  const own = trial.params['training.epochs'];
  if (typeof own === 'number') return own;
  return typeof sweep.base?.training?.epochs === 'number' ? sweep.base.training.epochs : null;
}

function earlyStoppingText(sweep: Sweep): string {
  const e = sweep.earlyStopping;
  if (!e) return 'none: every trial trains all its epochs';
  if (e.type === 'asha') {
    const r = e.reductionFactor ?? 3;
    return `ASHA: at epochs ${e.minEpochs} × ${r}^k a trial goes on only in the top 1/${r} of those that got there`;
  }
  return `median rule: after ${e.minEpochs} epoch${e.minEpochs === 1 ? '' : 's'}, a trial worse than the median of the others stops (once ${e.minTrials ?? 3} others got there)`;
}

/** One row of the trials table, updated in place so that focus survives live updates. */
export class TrialRow {
  readonly el: HTMLTableRowElement;
  private readonly marker = h('span', { class: 'best-marker' });
  private readonly params: HTMLTableCellElement[];
  private readonly state = h('td');
  private readonly objective = h('td', { class: 'num' });
  private readonly epochs = h('td', { class: 'num' });
  private readonly stop = h('td', { class: 'stop-cell' });
  private last = '';

  constructor(
    trial: SweepTrial,
    private readonly paths: string[],
  ) {
    this.params = paths.map((p) => h('td', { class: 'num', 'data-param': p }));
    this.el = h(
      'tr',
      { 'data-trial-index': String(trial.index), 'data-job-id': trial.jobId },
      h('th', { scope: 'row', class: 'num' }, String(trial.index), this.marker),
      h('td', null, h('a', { href: href(`/jobs/${trial.jobId}`), class: 'mono', 'aria-label': `Job of trial ${trial.index}` }, trial.jobId.slice(0, 8))),
      this.params,
      this.state,
      this.objective,
      this.epochs,
      this.stop,
    );
  }

  update(trial: SweepTrial, sweep: Sweep, best: boolean): void {
    const planned = plannedEpochs(sweep, trial);
    const key = JSON.stringify([trial, best, planned]);
    if (key === this.last) return;
    this.last = key;
    this.el.classList.toggle('best-row', best);
    this.marker.textContent = best ? ' ★ best' : '';
    this.paths.forEach((p, i) => {
      const cell = this.params[i];
      const value = trial.params[p];
      cell.textContent = value === undefined ? '—' : paramText(value);
      cell.dataset.value = JSON.stringify(value ?? null);
      cell.title = value === undefined ? '' : JSON.stringify(value);
    });
    mount(this.state, statusBadge(trial.status), trial.error ? h('div', { class: 'sub stop-reason' }, `${trial.error.code}: ${trial.error.message}`) : null);
    this.objective.textContent = objectiveText(sweep.objective.metric, trial.objective);
    this.objective.dataset.value = trial.objective === null ? '' : String(trial.objective);
    this.epochs.textContent = planned ? `${trial.epochs} of ${planned}` : String(trial.epochs);
    this.epochs.dataset.epochs = String(trial.epochs);
    this.stop.dataset.stopped = String(trial.stopReason !== null);
    mount(
      this.stop,
      trial.stopReason !== null
        ? [
            h('span', { class: 'badge early-stopped' }, `Stopped early after ${trial.epochs} epoch${trial.epochs === 1 ? '' : 's'}`),
            h('div', { class: 'sub stop-reason' }, trial.stopReason),
          ]
        : h('span', { class: 'sub' }, '—'),
    );
  }
}

/** One line under the title: how the sweep searches. */
export function headSummary(sweep: Sweep): HTMLElement {
  return h(
    'p',
    { class: 'sub head-summary' },
    [
      sweep.algorithm,
      `${sweep.objective.metric}, ${sweep.objective.goal}`,
      `${sweep.maxTrials} trial${sweep.maxTrials === 1 ? '' : 's'}, ${sweep.parallelism} at a time`,
      sweep.earlyStopping ? `${sweep.earlyStopping.type === 'asha' ? 'ASHA' : 'median rule'} from epoch ${sweep.earlyStopping.minEpochs}` : 'no early stopping',
    ].join(' · '),
  );
}

export function settingsCard(sweep: Sweep): HTMLElement {
  const metric = sweep.objective.metric;
  const base = sweep.base;
  return card(
    'Settings',
    details([
      ['Algorithm', `${sweep.algorithm} (seed ${sweep.seed})`],
      ['Objective', `${metric}, ${sweep.objective.goal} (its value at a trial's last epoch)`],
      ['Budget', `${sweep.maxTrials} trial${sweep.maxTrials === 1 ? '' : 's'}, ${sweep.parallelism} at a time`],
      ['Early stopping', earlyStoppingText(sweep)],
      [
        'Space',
        h(
          'ul',
          { class: 'space-list' },
          Object.entries(sweep.space).map(([p, d]) => h('li', null, h('code', null, p), ': ', distributionText(d))),
        ),
      ],
      [
        'Base job',
        base
          ? [
              h('a', { href: href(`/datasets/${encodeURIComponent(base.dataset.id)}`) }, base.dataset.id),
              base.dataset.limit ? ` (first ${fmt.count(base.dataset.limit)} examples)` : '',
              ` · ${base.model.layers?.length ?? '?'} layers · `,
              Object.entries(base.training ?? {})
                .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
                .join(', ') || 'default training',
            ]
          : '—',
      ],
      ['Created', fmt.timestamp(sweep.createdAt)],
      ['Finished', fmt.timestamp(sweep.finishedAt)],
      ['Sweep id', h('code', null, sweep.id)],
    ]),
  );
}

/** The trials table around `rows`: a column per searched path. */
export function trialsTableOf(sweep: Sweep, rows: HTMLElement): HTMLElement {
  const paths = Object.keys(sweep.space);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'trials-table' },
      h('caption', { class: 'visually-hidden' }, 'Every trial: its sampled parameters, state, objective and epochs; the list follows the sweep live'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col', class: 'num' }, 'Trial'),
          h('th', { scope: 'col' }, 'Job'),
          paths.map((p) => h('th', { scope: 'col', class: 'num param-col' }, h('code', null, p))),
          h('th', { scope: 'col' }, 'State'),
          h('th', { scope: 'col', class: 'num metric-col' }, objectiveName(sweep.objective)),
          h('th', { scope: 'col', class: 'num' }, 'Epochs'),
          h('th', { scope: 'col' }, 'Early stopping'),
        ),
      ),
      rows,
    ),
  );
}
