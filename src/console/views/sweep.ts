import { ApiError, api, followEvents } from '../lib/api.js';
import { type Child, h, mount } from '../lib/dom.js';
import { href } from '../lib/router.js';
import { type EpochMetric, FINAL_STATUSES, type JobStatus, type Sweep, type SweepTrial } from '../lib/types.js';
import { card, details, errorBlock, progressBar, setStatusBadge } from '../lib/ui.js';
import { every, type ViewContext } from '../lib/view.js';
import { SweepChart } from './sweep-chart.js';
import { headSummary, plannedEpochs, settingsCard, TrialRow, trialsTableOf } from './sweep-parts.js';
import { objectiveText, paramText, sweepLabel, trialsDone } from './sweeps.js';

/** How often the page asks the API while its event stream is down. */
const POLL_MS = 5000;
/** Trials whose metrics one poll fetches at most (the rest wait for the next). */
const METRICS_PER_POLL = 4;

interface TrialEventData {
  trial: number | null;
  jobId: string;
  status: JobStatus;
  params?: Record<string, unknown>;
  objective?: number | null;
  epochs?: number;
  stopReason?: string | null;
  error?: { code: string; message: string };
}

interface EpochEventData {
  trial: number | null;
  jobId: string;
  epoch: number;
  objective: number | null;
}

export async function sweepView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const id = ctx.route.params.id;
  let sweep = await api.get<Sweep>(`/v1/sweeps/${encodeURIComponent(id)}`, { signal });
  const metric = sweep.objective.metric;
  const paths = Object.keys(sweep.space);
  const trials = new Map<string, SweepTrial>();

  const title = h('h1', null, sweepLabel(sweep));
  const badge = h('span');
  const live = h('span', { class: 'live-badge', 'aria-live': 'polite' });
  const cancel = h('button', { type: 'button', class: 'danger' }, 'Cancel sweep');
  const bar = progressBar('Trials done');
  const progressText = h('p', { class: 'progress-line' });
  const progressDetail = h('p', { class: 'sub' });
  const errorHost = h('div');
  const streamNote = h('div', { 'aria-live': 'polite' });
  const bestHost = h('div');
  const chart = new SweepChart(metric);
  signal.addEventListener('abort', () => chart.destroy(), { once: true });
  const rowsBody = h('tbody');
  const rows = new Map<string, TrialRow>();
  const compareLink = h('a', { class: 'button secondary', hidden: true }, 'Compare trials');
  const page = h('section', { class: 'page sweep-page', 'data-sweep-id': sweep.id });

  cancel.addEventListener('click', async () => {
    const ok = window.confirm(
      `Cancel ${sweepLabel(sweep)}? It creates no more trials; queued trials are cancelled and running ones stop after their current batch. Finished trials keep their models.`,
    );
    if (!ok) return;
    cancel.disabled = true;
    try {
      applySweep(await api.post<Sweep>(`/v1/sweeps/${encodeURIComponent(sweep.id)}/cancel`, undefined, { signal }));
      ctx.notify('The sweep is cancelled: running trials stop after their current batch.', 'success');
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      mount(errorHost, errorBlock(err));
      ctx.notify(`Could not cancel: ${(err as Error).message}`, 'error');
      cancel.disabled = false;
    }
  });

  const ordered = () => [...trials.values()].sort((a, b) => a.index - b.index);

  function renderHead(): void {
    title.textContent = sweepLabel(sweep);
    setStatusBadge(badge, sweep.status);
    page.dataset.status = sweep.status;
    cancel.hidden = sweep.status !== 'running';
    if (sweep.status !== 'running') cancel.disabled = false;
    const done = trialsDone(sweep);
    bar.value = sweep.maxTrials > 0 ? (100 * done) / sweep.maxTrials : 0;
    progressText.textContent = `${done} of ${sweep.maxTrials} trials done`;
    const p = sweep.progress;
    progressDetail.textContent = [
      `${p.running} running`,
      `${p.queued} queued`,
      `${p.succeeded} succeeded${p.earlyStopped ? ` (${p.earlyStopped} stopped early)` : ''}`,
      `${p.failed} failed`,
      `${p.cancelled} cancelled`,
    ].join(' · ');
    if (sweep.error && !errorHost.hasChildNodes()) mount(errorHost, errorBlock(new Error(`${sweep.error.code}: ${sweep.error.message}`)));
  }

  function renderBest(): void {
    const best = sweep.best;
    if (!best) {
      mount(
        bestHost,
        card('Best trial', h('p', { class: 'sub' }, sweep.status === 'running' ? 'None yet: the best trial is the best one that succeeded.' : 'No trial succeeded.')),
      );
      return;
    }
    mount(
      bestHost,
      card(
        'Best trial',
        h(
          'div',
          { class: 'stats' },
          h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, objectiveText(metric, best.objective)), h('span', { class: 'stat-label' }, metric)),
          h(
            'div',
            { class: 'stat' },
            h('span', { class: 'stat-value' }, `trial ${best.trial}`),
            h('span', { class: 'stat-label' }, `after ${best.epochs} epoch${best.epochs === 1 ? '' : 's'}`),
          ),
        ),
        h('h3', null, 'Its parameters'),
        details(paths.map((p): [Child, Child] => [h('code', null, p), paramText(best.params[p])])),
        h(
          'div',
          { class: 'actions' },
          h('a', { class: 'button secondary', href: href(`/jobs/${best.jobId}`) }, 'Open its job'),
          best.modelId ? h('a', { class: 'button primary', href: href(`/models/${best.modelId}`) }, 'Open its model') : null,
        ),
      ),
    );
    bestHost.dataset.bestTrial = String(best.trial);
  }

  function renderTrials(): void {
    const list = ordered();
    const els: HTMLTableRowElement[] = [];
    for (const t of list) {
      let row = rows.get(t.jobId);
      if (!row) {
        row = new TrialRow(t, paths);
        rows.set(t.jobId, row);
      }
      row.update(t, sweep, t.jobId === sweep.best?.jobId);
      els.push(row.el);
    }
    const same = els.length === rowsBody.children.length && els.every((r, i) => rowsBody.children[i] === r);
    if (!same) rowsBody.replaceChildren(...els);
    chart.setTrials(
      list.map((t) => ({ index: t.index, jobId: t.jobId, stopped: t.stopReason !== null })),
      sweep.best?.jobId ?? null,
    );
    chart.setEpochs(Math.max(1, ...list.map((t) => Math.max(t.epochs, plannedEpochs(sweep, t) ?? 0))));
    // The curves of the best trials side by side, in the compare view.
    const top = list
      .filter((t) => t.objective !== null)
      .sort((a, b) => (sweep.objective.goal === 'maximize' ? b.objective! - a.objective! : a.objective! - b.objective!))
      .slice(0, 6);
    compareLink.hidden = top.length < 2;
    compareLink.setAttribute('href', href('/compare', { ids: top.map((t) => t.jobId).join(',') }));
  }

  let renderFrame = 0;
  /** Events come in bursts (a replayed stream): render once per frame. */
  function render(): void {
    if (renderFrame) return;
    renderFrame = requestAnimationFrame(() => {
      renderFrame = 0;
      renderHead();
      renderBest();
      renderTrials();
    });
  }
  signal.addEventListener('abort', () => cancelAnimationFrame(renderFrame), { once: true });

  /** A fresh GET: authoritative for states and parameters; epochs already seen on the stream are kept when the answer is older. */
  function applySweep(next: Sweep): void {
    sweep = next;
    for (const t of next.trials ?? []) {
      const known = trials.get(t.jobId);
      trials.set(t.jobId, known && known.epochs > t.epochs ? { ...t, epochs: known.epochs, objective: known.objective } : t);
    }
    render();
  }

  // Refetches asked for by events, coalesced: one in flight, at most one more after it.
  let refetchTimer = 0;
  let refetching = false;
  let refetchAgain = false;
  async function refetch(): Promise<void> {
    if (refetching) {
      refetchAgain = true;
      return;
    }
    refetching = true;
    try {
      applySweep(await api.get<Sweep>(`/v1/sweeps/${encodeURIComponent(sweep.id)}`, { signal }));
    } catch (err) {
      if ((err as Error).name !== 'AbortError') mount(errorHost, errorBlock(err));
    } finally {
      refetching = false;
      if (refetchAgain && !signal.aborted) {
        refetchAgain = false;
        scheduleRefetch();
      }
    }
  }
  function scheduleRefetch(delayMs = 250): void {
    if (refetchTimer || signal.aborted) return;
    refetchTimer = window.setTimeout(() => {
      refetchTimer = 0;
      void refetch();
    }, delayMs);
  }
  signal.addEventListener('abort', () => window.clearTimeout(refetchTimer), { once: true });

  // Without the stream: the trials' metrics, only for trials that trained epochs the chart lacks, a few per poll.
  const askedEpochs = new Map<string, number>();
  async function fetchMissingMetrics(): Promise<void> {
    const missing = ordered()
      .filter((t) => t.epochs > chart.epochsOf(t.jobId) && askedEpochs.get(t.jobId) !== t.epochs)
      .slice(0, METRICS_PER_POLL);
    await Promise.all(
      missing.map(async (t) => {
        try {
          const res = await api.get<{ items: EpochMetric[] }>(`/v1/jobs/${t.jobId}/metrics`, { signal });
          askedEpochs.set(t.jobId, t.epochs);
          for (const m of res.items) chart.addPoint(t.jobId, m.epoch, m[metric] ?? null);
        } catch (err) {
          if ((err as Error).name !== 'AbortError') mount(errorHost, errorBlock(err));
        }
      }),
    );
  }

  let poller: AbortController | null = null;
  function startPolling(): void {
    if (poller || signal.aborted) return;
    const own = new AbortController();
    poller = own;
    signal.addEventListener('abort', () => own.abort(), { once: true });
    every(POLL_MS, own.signal, async () => {
      await refetch();
      await fetchMissingMetrics();
      if (sweep.status !== 'running' && ordered().every((t) => FINAL_STATUSES.includes(t.status)) && ordered().every((t) => t.epochs <= chart.epochsOf(t.jobId))) stopPolling();
    });
  }
  function stopPolling(): void {
    poller?.abort();
    poller = null;
  }

  function onTrial(d: TrialEventData): void {
    const t = trials.get(d.jobId);
    if (!t) {
      scheduleRefetch();
      return;
    }
    // A replayed stream retells a finished trial's earlier states: the end stays.
    if (FINAL_STATUSES.includes(t.status) && !FINAL_STATUSES.includes(d.status)) return;
    t.status = d.status;
    if (d.params) t.params = d.params;
    if (d.epochs !== undefined && d.epochs >= t.epochs) {
      t.epochs = d.epochs;
      t.objective = d.objective ?? null;
    }
    if (d.stopReason !== undefined) t.stopReason = d.stopReason;
    if (d.error) t.error = d.error;
    render();
  }

  function onEpoch(d: EpochEventData): void {
    chart.addPoint(d.jobId, d.epoch, d.objective);
    const t = trials.get(d.jobId);
    if (!t) {
      scheduleRefetch();
      return;
    }
    if (d.epoch >= t.epochs) {
      t.epochs = d.epoch;
      t.objective = d.objective;
      render();
    }
  }

  applySweep(sweep);
  // The stream replays every trial's states and epochs from the start (the chart's lines), then follows the sweep live.
  void followEvents(`/v1/sweeps/${encodeURIComponent(sweep.id)}/events`, {
    signal,
    onStatus: (s) => {
      live.textContent = s === 'live' ? 'Live' : s === 'reconnecting' ? 'Reconnecting… (refreshing every few seconds meanwhile)' : '';
      live.dataset.state = s;
      // A stream that resumes picks up where it stopped (Last-Event-ID): polling only bridges the gap.
      if (s === 'reconnecting') startPolling();
      else stopPolling();
    },
    onEvent: (event) => {
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      switch (event.event) {
        case 'trial':
          onTrial(data as TrialEventData);
          break;
        case 'epoch':
          onEpoch(data as EpochEventData);
          break;
        case 'sweep': {
          const s = data as Pick<Sweep, 'status' | 'progress' | 'best'>;
          sweep = { ...sweep, status: s.status, progress: s.progress, best: s.best };
          if (s.progress.trials > trials.size) scheduleRefetch();
          render();
          break;
        }
        case 'end':
          scheduleRefetch(0);
          break;
      }
    },
  })
    .then(() => {
      if (!signal.aborted) scheduleRefetch(0);
    })
    .catch((err) => {
      if (signal.aborted) return;
      live.textContent = '';
      const why = err instanceof ApiError ? err.message : (err as Error).message;
      mount(streamNote, h('p', { class: 'notice' }, `Live updates are unavailable (${why}): the page refreshes every few seconds instead.`));
      startPolling();
    });

  const settings = settingsCard(sweep);
  const trialsTable = trialsTableOf(sweep, rowsBody);

  renderHead();
  renderBest();
  renderTrials();

  mount(
    page,
    h('p', { class: 'crumbs' }, h('a', { href: '#/sweeps' }, 'Sweeps'), ' / '),
    h(
      'div',
      { class: 'page-head' },
      h('div', null, title, h('div', { class: 'head-meta' }, badge, live, h('code', { class: 'sub' }, sweep.id)), headSummary(sweep)),
      h('div', { class: 'actions' }, cancel, compareLink, h('a', { class: 'button secondary', href: href('/sweeps/new', { from: sweep.id }) }, 'Edit as new sweep')),
    ),
    h('section', { class: 'card progress-card', 'aria-label': 'Progress' }, bar, progressText, progressDetail),
    errorHost,
    streamNote,
    h('div', { class: 'two-col' }, bestHost, settings),
    card(`${metric} per epoch`, chart.el, h('p', { class: 'hint' }, 'One line per trial; the best is thick. A line that ends early is a trial that early stopping cut.')),
    card('Trials', trialsTable),
  );
  return page;
}
