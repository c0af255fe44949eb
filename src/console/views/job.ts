import { ApiError, api, followEvents } from '../lib/api.js';
import { type Child, h, mount } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import { type EpochMetric, FINAL_STATUSES, type Job, type JobProgress } from '../lib/types.js';
import { card, details, errorBlock, progressBar, setStatusBadge } from '../lib/ui.js';
import { every, type ViewContext } from '../lib/view.js';
import { JobCurves } from './curves.js';
import { jobLabel } from './jobs.js';

interface StateEventData {
  status: string;
  at: string;
  attempt?: number;
  reason?: string;
  error?: { code: string; message: string };
}

export async function jobView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const id = ctx.route.params.id;
  let job = await api.get<Job>(`/v1/jobs/${encodeURIComponent(id)}`, {
    signal,
  });
  let fetchedAt = Date.now();

  const title = h('h1', null, jobLabel(job));
  const badge = h('span');
  const live = h('span', { class: 'live-badge', 'aria-live': 'polite' });
  const cancel = h('button', { type: 'button', class: 'danger' }, 'Cancel job');
  const modelLink = h('a', { class: 'button primary', hidden: true }, 'Open the model');
  const bar = progressBar('Training progress');
  const progressText = h('p', { class: 'progress-line' });
  const etaText = h('p', { class: 'sub' });
  const errorHost = h('div');
  const curves = new JobCurves();
  signal.addEventListener('abort', () => curves.destroy(), { once: true });
  const epochRows = h('tbody');
  const epochs = new Map<number, EpochMetric>();
  const eventsList = h('ol', { class: 'events' });
  const epochTable = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'num-table epochs-table' },
      h('caption', { class: 'visually-hidden' }, 'Metrics of each finished epoch'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Epoch', 'Loss', 'Accuracy', 'Val loss', 'Val acc.', 'Learning rate', 'Duration', 'Samples/s'].map((c) => h('th', { scope: 'col', class: 'num' }, c)),
        ),
      ),
      epochRows,
    ),
  );
  const summaryHost = h('div', { class: 'summary-grid' });
  // A trial of a sweep links back to it: by its id at first, by its name once the sweep is read.
  let sweepName: string | null = null;
  const sweepAnchor = () => (job.sweepId ? h('a', { href: href(`/sweeps/${job.sweepId}`), 'data-sweep-id': job.sweepId }, sweepName ?? `sweep ${job.sweepId.slice(0, 8)}`) : null);
  const sweepCrumb = sweepAnchor();
  if (job.sweepId)
    api
      .get<{ name: string | null }>(`/v1/sweeps/${encodeURIComponent(job.sweepId)}`, { signal })
      .then((s) => {
        sweepName = s.name;
        if (!sweepName) return;
        for (const a of [sweepCrumb, summaryHost.querySelector('a[data-sweep-id]')]) if (a) a.textContent = sweepName;
      })
      .catch(() => undefined);
  let progress: JobProgress = job.progress;
  let firstSample: { t: number; percent: number } | null = null;
  let splitAsked = false;

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      const res = await api.post<Job>(`/v1/jobs/${job.id}/cancel`, undefined, {
        signal,
      });
      job = res;
      fetchedAt = Date.now();
      ctx.notify(res.status === 'cancelled' ? 'The job is cancelled.' : 'Cancel requested: the worker stops after its current batch.', 'success');
      renderJob();
    } catch (err) {
      ctx.notify(`Could not cancel: ${(err as Error).message}`, 'error');
      cancel.disabled = false;
    }
  });

  function renderProgress(): void {
    const p = progress;
    const done = job.status === 'succeeded' ? 100 : p.percent;
    bar.value = done;
    const batch = p.batchesPerEpoch > 0 && job.status === 'running' ? ` · batch ${p.batch} of ${p.batchesPerEpoch}` : '';
    progressText.textContent = `Epoch ${p.epoch} of ${p.epochs}${batch} · ${done.toFixed(1)}%`;
    if (job.status === 'running' && done > 0) {
      const now = Date.now();
      let remaining: number | null = null;
      if (firstSample && done - firstSample.percent >= 1) remaining = ((now - firstSample.t) / (done - firstSample.percent)) * (100 - done);
      else if (job.durationMs !== null) remaining = fmt.eta(done, job.durationMs + (now - fetchedAt));
      etaText.textContent = remaining !== null ? `About ${fmt.duration(remaining)} left` : 'Estimating time left…';
    } else if (job.status === 'queued') etaText.textContent = 'Waiting for a worker.';
    else if (job.status === 'cancelling') etaText.textContent = 'Stopping after the current batch.';
    else etaText.textContent = job.durationMs !== null ? `Trained for ${fmt.duration(job.durationMs)}` : '';
  }

  function renderJob(): void {
    title.textContent = jobLabel(job);
    setStatusBadge(badge, job.status);
    cancel.hidden = !['queued', 'running'].includes(job.status);
    cancel.disabled = false;
    if (job.modelId) {
      modelLink.hidden = false;
      modelLink.setAttribute('href', href(`/models/${job.modelId}`));
    }
    if (job.status !== 'running') progress = job.progress;
    renderProgress();
    mount(errorHost, job.error ? errorBlock(new Error(`${job.error.code}: ${job.error.message}`)) : null);
    const t = job.test;
    const plan = job.plan;
    mount(
      summaryHost,
      card(
        'Test metrics',
        t
          ? h(
              'div',
              { class: 'stats' },
              h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, fmt.percent(t.accuracy, 2)), h('span', { class: 'stat-label' }, 'test accuracy')),
              h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, fmt.metric(t.loss)), h('span', { class: 'stat-label' }, 'test loss')),
            )
          : h(
              'p',
              { class: 'sub' },
              FINAL_STATUSES.includes(job.status) ? 'No test evaluation (no test split, or the job did not finish).' : 'Measured on the held-out test split when training ends.',
            ),
        job.stopReason ? h('p', { class: 'notice' }, `Stopped early: ${job.stopReason}`) : null,
      ),
      card(
        'Run',
        details([
          [
            'Dataset',
            [
              h(
                'a',
                {
                  href: href(`/datasets/${encodeURIComponent(job.dataset.id)}`),
                },
                job.dataset.id,
              ),
              job.dataset.limit ? ` (first ${fmt.count(job.dataset.limit)} examples)` : '',
            ],
          ],
          [
            'Split',
            job.split
              ? `${fmt.count(job.split.train)} train · ${fmt.count(job.split.validation)} validation · ${fmt.count(job.split.test)} test (seed ${job.split.seed})`
              : 'not split yet',
          ],
          ['Engine', job.engine ? `${job.engine.name} ${job.engine.version}` : 'not started'],
          ['Model size', `${fmt.count(plan.totalParams)} parameters · ${fmt.compact(plan.macs)} MACs per example · output ${fmt.shape(plan.outputShape)}`],
          ['Attempts', String(job.attempts)],
          ['Created', fmt.timestamp(job.createdAt)],
          ['Started', fmt.timestamp(job.startedAt)],
          ['Finished', fmt.timestamp(job.finishedAt)],
          [
            'Registered',
            job.registeredAs
              ? h(
                  'a',
                  {
                    href: href(`/registry/${encodeURIComponent(job.registeredAs.name)}`),
                  },
                  `${job.registeredAs.name} v${job.registeredAs.version}`,
                )
              : job.register
                ? `as ${job.register.name} when it succeeds`
                : '—',
          ],
          ...(job.sweepId ? [['Sweep', [sweepAnchor(), ' (this job is one of its trials)']] as [string, Child]] : []),
          ['Job id', h('code', null, job.id)],
        ]),
      ),
    );
  }

  function addEpoch(m: EpochMetric): void {
    if (epochs.has(m.epoch)) return;
    epochs.set(m.epoch, m);
    curves.addEpoch(m);
    epochRows.replaceChildren(
      ...[...epochs.values()]
        .sort((a, b) => a.epoch - b.epoch)
        .map((e) =>
          h(
            'tr',
            null,
            h('th', { scope: 'row', class: 'num' }, String(e.epoch)),
            [
              fmt.metric(e.loss),
              fmt.percent(e.accuracy, 2),
              fmt.metric(e.valLoss),
              fmt.percent(e.valAccuracy, 2),
              fmt.rate(e.learningRate),
              fmt.duration(e.durationMs),
              fmt.count(e.samplesPerSec === null ? null : Math.round(e.samplesPerSec)),
            ].map((v) => h('td', { class: 'num' }, v)),
          ),
        ),
    );
  }

  function addEvent(kind: string, text: string, at?: string): void {
    eventsList.append(
      h(
        'li',
        { class: `event event-${kind}` },
        h('time', { datetime: at ?? new Date().toISOString() }, fmt.timestamp(at ?? new Date().toISOString())),
        h('span', { class: 'event-kind' }, kind),
        h('span', null, text),
      ),
    );
  }

  async function refetch(): Promise<void> {
    try {
      job = await api.get<Job>(`/v1/jobs/${job.id}`, { signal });
      fetchedAt = Date.now();
      renderJob();
    } catch (err) {
      if ((err as Error).name !== 'AbortError') mount(errorHost, errorBlock(err));
    }
  }

  renderJob();
  curves.setEpochs(job.progress.epochs);
  // The stream replays the job's durable events (states, finished epochs), then follows it live.
  void followEvents(`/v1/jobs/${encodeURIComponent(job.id)}/events`, {
    signal,
    onStatus: (s) => {
      live.textContent = s === 'live' ? 'Live' : s === 'reconnecting' ? 'Reconnecting…' : '';
      live.dataset.state = s;
    },
    onEvent: (event) => {
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(event.data) as Record<string, unknown>;
      } catch {
        return;
      }
      switch (event.event) {
        case 'state': {
          const s = data as unknown as StateEventData;
          const extra = s.error ? ` — ${s.error.code}: ${s.error.message}` : s.reason ? ` — ${s.reason}` : s.attempt ? ` (attempt ${s.attempt})` : '';
          addEvent('state', `${s.status}${extra}`, s.at);
          if (s.status !== job.status) void refetch();
          break;
        }
        case 'metrics': {
          const m = data as unknown as EpochMetric;
          addEpoch(m);
          addEvent(
            'epoch',
            `epoch ${m.epoch}: loss ${fmt.metric(m.loss)}, accuracy ${fmt.percent(m.accuracy)}, val loss ${fmt.metric(m.valLoss)}, val accuracy ${fmt.percent(m.valAccuracy)}`,
            m.createdAt,
          );
          break;
        }
        case 'progress': {
          progress = data as unknown as JobProgress;
          // The split is stored once the worker has loaded the data, after the 'running' state.
          if (!job.split && !splitAsked && progress.batchesPerEpoch > 0) {
            splitAsked = true;
            void refetch();
          }
          if (!firstSample && job.status === 'running') firstSample = { t: Date.now(), percent: progress.percent };
          if (progress.batchesPerEpoch > 0 && progress.batch > 0 && (progress.loss !== undefined || progress.accuracy !== undefined)) {
            curves.addBatch({
              x: progress.epoch - 1 + progress.batch / progress.batchesPerEpoch,
              loss: progress.loss ?? null,
              accuracy: progress.accuracy ?? null,
            });
          }
          renderProgress();
          break;
        }
        case 'end':
          void refetch();
          break;
      }
    },
  }).catch((err) => {
    if (!signal.aborted) mount(errorHost, errorBlock(err instanceof ApiError ? err : new Error(`the event stream failed: ${(err as Error).message}`)));
  });
  // The ETA and durations tick between events.
  every(1000, signal, () => {
    if (job.status === 'running') renderProgress();
  });

  return h(
    'section',
    { class: 'page job-page', 'data-job-id': job.id },
    h('p', { class: 'crumbs' }, job.sweepId ? [h('a', { href: '#/sweeps' }, 'Sweeps'), ' / ', sweepCrumb, ' / '] : [h('a', { href: '#/jobs' }, 'Jobs'), ' / ']),
    h(
      'div',
      { class: 'page-head' },
      h('div', null, title, h('div', { class: 'head-meta' }, badge, live, h('code', { class: 'sub' }, job.id))),
      h(
        'div',
        { class: 'actions' },
        cancel,
        modelLink,
        h(
          'a',
          {
            class: 'button secondary',
            href: href('/compare', { ids: job.id }),
          },
          'Compare',
        ),
        h('a', { class: 'button secondary', href: href('/new', { from: job.id }) }, 'Edit as new job'),
        job.sweepId ? null : h('a', { class: 'button secondary', href: href('/sweeps/new', { job: job.id }) }, 'Sweep from this job'),
      ),
    ),
    h('section', { class: 'card progress-card', 'aria-label': 'Progress' }, bar, progressText, etaText),
    errorHost,
    curves.el,
    h('div', { class: 'two-col' }, h('div', null, card('Epochs', epochTable)), summaryHost),
    card('Events', eventsList),
  );
}
