import { ApiError } from './api.js';
import { type Child, h } from './dom.js';
import type { JobStatus } from './types.js';

const STATUS_TEXT: Record<JobStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelling: 'Cancelling',
  cancelled: 'Cancelled',
};

export function statusBadge(status: JobStatus): HTMLElement {
  return h('span', { class: `badge status-${status}` }, STATUS_TEXT[status] ?? status);
}

export function setStatusBadge(el: HTMLElement, status: JobStatus): void {
  el.className = `badge status-${status}`;
  el.textContent = STATUS_TEXT[status] ?? status;
}

/** A labelled progress bar (the native element: announced with its value). */
export function progressBar(label: string, value = 0): HTMLProgressElement {
  return h('progress', {
    max: 100,
    value,
    'aria-label': label,
  }) as HTMLProgressElement;
}

/** Term/definition pairs (a term is text, or markup such as a code path). */
export function details(pairs: [Child, Child][]): HTMLElement {
  return h(
    'dl',
    { class: 'details' },
    pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

export function card(title: string, ...children: Child[]): HTMLElement {
  const id = `card-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

export function errorBlock(err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  const list =
    err instanceof ApiError && err.errors.length > 0
      ? h(
          'ul',
          null,
          err.errors.map((e) => h('li', null, h('code', null, e.field), ': ', e.message)),
        )
      : null;
  return h('div', { class: 'notice error', role: 'alert' }, h('p', null, message), list);
}

export function emptyState(text: string, ...actions: Child[]): HTMLElement {
  return h('div', { class: 'empty' }, h('p', null, text), ...actions);
}

export function loading(text = 'Loading…'): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, text);
}

/** A table with a caption (read by screen readers, hidden visually when `hideCaption`). */
export function table(caption: string, head: string[], rows: Child[][] | HTMLTableRowElement[], opts: { hideCaption?: boolean; className?: string } = {}): HTMLElement {
  const body = h(
    'tbody',
    null,
    (rows as (Child[] | HTMLTableRowElement)[]).map((r) =>
      r instanceof HTMLTableRowElement
        ? r
        : h(
            'tr',
            null,
            r.map((c) => h('td', null, c)),
          ),
    ),
  );
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: opts.className ?? '' },
      h('caption', { class: opts.hideCaption ? 'visually-hidden' : '' }, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          head.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      body,
    ),
  );
}

export interface TabDef {
  id: string;
  label: string;
  content?: Child[];
}

/**
 * A tab list (WAI-ARIA tabs: one tab in the Tab order, arrow keys move
 * between tabs and select them). `onSelect` runs before the panel shows.
 */
export function tabList(label: string, defs: TabDef[], onSelect: (id: string) => void): { list: HTMLElement; panels: Record<string, HTMLElement> } {
  const tabs = defs.map((d, i) =>
    h('button', { type: 'button', role: 'tab', id: `tab-${d.id}`, 'aria-controls': `panel-${d.id}`, 'aria-selected': String(i === 0), tabindex: i === 0 ? '0' : '-1' }, d.label),
  );
  const panels = Object.fromEntries(
    defs.map((d, i) => [d.id, h('div', { role: 'tabpanel', id: `panel-${d.id}`, 'aria-labelledby': `tab-${d.id}`, hidden: i !== 0 }, d.content ?? [])]),
  );
  const select = (index: number) => {
    onSelect(defs[index].id);
    tabs.forEach((t, i) => {
      t.setAttribute('aria-selected', String(i === index));
      t.tabIndex = i === index ? 0 : -1;
      panels[defs[i].id].hidden = i !== index;
    });
  };
  tabs.forEach((t, i) => {
    t.addEventListener('click', () => select(i));
    t.addEventListener('keydown', (e) => {
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      const next = (i + step + tabs.length) % tabs.length;
      tabs[next].focus();
      select(next);
    });
  });
  return { list: h('div', { role: 'tablist', class: 'tabs', 'aria-label': label }, tabs), panels };
}
