import { api, query } from '../lib/api.js';
import { debounce, field, h, mount, option } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import { JOB_STATUSES, type Job, type Page } from '../lib/types.js';
import { emptyState, errorBlock, progressBar, setStatusBadge } from '../lib/ui.js';
import { every, type ViewContext } from '../lib/view.js';

const REFRESH_MS = 2000;
const PAGE = 25;

export function jobLabel(job: Pick<Job, 'id' | 'name'>): string {
  return job.name ?? `job ${job.id.slice(0, 8)}`;
}

/** One row, updated in place so that focus and selection survive the live refresh. */
class JobRow {
  readonly el: HTMLTableRowElement;
  private readonly badge = h('span');
  private readonly bar = progressBar('Progress');
  private readonly progressText = h('span', { class: 'progress-text' });
  private readonly latest = h('td', { class: 'num narrow-hide' });
  private readonly test = h('td', { class: 'num narrow-hide' });
  private readonly duration = h('td', { class: 'num wide-only' });
  private readonly link: HTMLAnchorElement;
  readonly checkbox: HTMLInputElement;
  private last = '';

  constructor(job: Job, selected: Set<string>, onSelect: () => void) {
    this.link = h('a', { href: href(`/jobs/${job.id}`) });
    this.checkbox = h('input', {
      type: 'checkbox',
      checked: selected.has(job.id),
      'aria-label': `Select ${jobLabel(job)} to compare`,
    });
    this.checkbox.addEventListener('change', () => {
      if (this.checkbox.checked) selected.add(job.id);
      else selected.delete(job.id);
      onSelect();
    });
    this.bar.setAttribute('aria-label', `Progress of ${jobLabel(job)}`);
    this.el = h(
      'tr',
      { 'data-job-id': job.id },
      h('td', { class: 'select' }, this.checkbox),
      h('th', { scope: 'row', class: 'name-cell' }, this.link, h('div', { class: 'sub mono' }, job.id.slice(0, 8))),
      h('td', null, this.badge),
      h('td', { class: 'progress-cell' }, this.bar, this.progressText),
      this.latest,
      this.test,
      h('td', { class: 'wide-only' }, job.dataset.id, job.dataset.limit ? h('span', { class: 'sub' }, ` ×${fmt.count(job.dataset.limit)}`) : null),
      h('td', { class: 'num wide-only' }, fmt.compact(job.plan.totalParams)),
      h('td', { class: 'wide-only', title: fmt.timestamp(job.createdAt) }, fmt.ago(job.createdAt)),
      this.duration,
    );
    this.update(job);
  }

  update(job: Job): void {
    const key = JSON.stringify([job.status, job.progress, job.metrics?.epoch, job.test, job.durationMs, job.name]);
    if (key === this.last) return;
    this.last = key;
    this.link.textContent = jobLabel(job);
    setStatusBadge(this.badge, job.status);
    this.bar.value = job.progress.percent;
    const p = job.progress;
    this.progressText.replaceChildren(
      `${p.percent.toFixed(0)}% · epoch ${p.epoch}/${p.epochs}`,
      job.test?.accuracy != null ? h('span', { class: 'narrow-only' }, ` · test ${fmt.percent(job.test.accuracy)}`) : '',
    );
    const m = job.metrics;
    mount(this.latest, m ? [fmt.metric(m.loss), h('div', { class: 'sub' }, `val acc ${fmt.percent(m.valAccuracy)}`)] : '—');
    this.test.textContent = fmt.percent(job.test?.accuracy);
    this.duration.textContent = fmt.duration(job.durationMs);
  }
}

export async function jobsView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const selected = new Set<string>((ctx.route.query.get('selected') ?? '').split(',').filter(Boolean));
  const statusSelect = h(
    'select',
    { name: 'status' },
    option('', 'All states'),
    JOB_STATUSES.map((s) => option(s, s, ctx.route.query.get('status') === s)),
  );
  const nameInput = h('input', {
    type: 'search',
    name: 'name',
    placeholder: 'e.g. mnist',
    value: ctx.route.query.get('name') ?? '',
    autocomplete: 'off',
  });
  const compareButton = h('button', { type: 'button', disabled: true }, 'Compare selected');
  const selectionNote = h('span', { class: 'sub', 'aria-live': 'polite' });
  const rowsBody = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more');
  const tableHost = h('div', { class: 'table-wrap' });
  const errorHost = h('div');
  const rows = new Map<string, JobRow>();
  let limit = PAGE;

  const onSelect = () => {
    compareButton.disabled = selected.size < 2;
    selectionNote.textContent = selected.size ? `${selected.size} selected` : '';
  };
  compareButton.addEventListener('click', () => ctx.navigate(href('/compare', { ids: [...selected].join(',') })));
  onSelect();

  const table = h(
    'table',
    { class: 'jobs-table' },
    h('caption', { class: 'visually-hidden' }, 'Jobs, newest first; the list refreshes by itself'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col', class: 'select' }, h('span', { class: 'visually-hidden' }, 'Select')),
        ['Name', 'State', 'Progress'].map((t) => h('th', { scope: 'col' }, t)),
        h('th', { scope: 'col', class: 'num narrow-hide' }, 'Last loss'),
        h('th', { scope: 'col', class: 'num narrow-hide' }, 'Test acc.'),
        h('th', { scope: 'col', class: 'wide-only' }, 'Dataset'),
        h('th', { scope: 'col', class: 'num wide-only' }, 'Params'),
        h('th', { scope: 'col', class: 'wide-only' }, 'Created'),
        h('th', { scope: 'col', class: 'num wide-only' }, 'Duration'),
      ),
    ),
    rowsBody,
  );

  async function refresh(): Promise<void> {
    let page: Page<Job>;
    try {
      page = await api.get<Page<Job>>(`/v1/jobs${query({ limit, status: statusSelect.value, name: nameInput.value.trim() })}`, { signal });
    } catch (err) {
      if ((err as Error).name !== 'AbortError') mount(errorHost, errorBlock(err));
      return;
    }
    mount(errorHost);
    if (page.items.length === 0) {
      rows.clear();
      mount(
        tableHost,
        emptyState(statusSelect.value || nameInput.value ? 'No job matches these filters.' : 'No jobs yet.', h('a', { href: '#/new', class: 'button primary' }, 'Train a model')),
      );
      more.hidden = true;
      return;
    }
    if (!tableHost.contains(table)) mount(tableHost, table);
    const seen = new Set<string>();
    const ordered: HTMLTableRowElement[] = [];
    for (const job of page.items) {
      seen.add(job.id);
      let row = rows.get(job.id);
      if (row) row.update(job);
      else {
        row = new JobRow(job, selected, onSelect);
        rows.set(job.id, row);
      }
      ordered.push(row.el);
    }
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    // Re-append only when the order changed, so a focused control is not moved.
    const same = ordered.length === rowsBody.children.length && ordered.every((r, i) => rowsBody.children[i] === r);
    if (!same) rowsBody.replaceChildren(...ordered);
    more.hidden = !page.nextCursor || limit >= 100;
  }

  const refilter = () => {
    const q: Record<string, string> = {};
    if (statusSelect.value) q.status = statusSelect.value;
    if (nameInput.value.trim()) q.name = nameInput.value.trim();
    history.replaceState(null, '', href('/jobs', q));
    void refresh();
  };
  statusSelect.addEventListener('change', refilter);
  const typed = debounce(refilter, 250);
  nameInput.addEventListener('input', typed);
  signal.addEventListener('abort', () => typed.cancel());
  more.addEventListener('click', () => {
    limit = Math.min(100, limit + PAGE);
    void refresh();
  });

  await refresh();
  every(REFRESH_MS, signal, refresh);

  return h(
    'section',
    { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Jobs'), h('a', { href: '#/new', class: 'button primary' }, 'New job')),
    h(
      'div',
      { class: 'toolbar', role: 'search', 'aria-label': 'Filter jobs' },
      field('State', statusSelect).wrap,
      field('Name contains', nameInput).wrap,
      h('div', { class: 'toolbar-actions' }, compareButton, selectionNote),
    ),
    errorHost,
    tableHost,
    h('div', { class: 'actions' }, more),
    h('p', { class: 'hint' }, 'States and progress update by themselves. Tick two or more jobs to compare their curves.'),
  );
}
