import { api } from '../lib/api.js';
import { barChart, PALETTE } from '../lib/charts.js';
import { h } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import type { Dataset } from '../lib/types.js';
import { card, details, table } from '../lib/ui.js';
import type { ViewContext } from '../lib/view.js';

export async function datasetView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const d = await api.get<Dataset>(`/v1/datasets/${encodeURIComponent(ctx.route.params.id)}`, { signal });
  const classes = d.classNames.length === d.numClasses ? d.classNames : Array.from({ length: d.numClasses }, (_, i) => String(i));

  const histogramHost = h('div', { role: 'img', 'aria-label': `Examples per class: ${classes.map((c, i) => `${c}: ${d.perClassCounts?.[i] ?? '?'}`).join(', ')}` });
  const histogram = card('Examples per class', d.perClassCounts ? histogramHost : h('p', { class: 'sub' }, 'No per-class counts for this dataset.'));
  const channels =
    d.mean?.map((m, i) => [
      d.mean && d.mean.length === 3 ? ['red', 'green', 'blue'][i] : d.mean && d.mean.length === 1 ? 'gray' : `channel ${i + 1}`,
      fmt.metric(m),
      fmt.metric(d.std?.[i]),
    ]) ?? [];

  const del = h('button', { type: 'button', class: 'danger', hidden: d.builtin }, 'Delete…');
  let armed = false;
  del.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      del.textContent = 'Click again to delete';
      return;
    }
    try {
      await api.delete(`/v1/datasets/${encodeURIComponent(d.id)}`, { signal });
      ctx.notify(`Dataset ${d.name} deleted.`, 'success');
      ctx.navigate('#/datasets');
    } catch (err) {
      ctx.notify(`Could not delete: ${(err as Error).message}`, 'error');
      armed = false;
      del.textContent = 'Delete…';
    }
  });

  const samples = d.preview?.thumbnails?.length
    ? h(
        'ul',
        { class: 'thumbs' },
        d.preview.thumbnails.map((t, i) => h('li', null, h('img', { src: t.dataUrl, alt: `Example ${i + 1}, class ${t.label}`, width: 56, height: 56 }), h('span', null, t.label))),
      )
    : d.preview?.rows?.length
      ? table(
          'First examples',
          ['Class', 'Values'],
          d.preview.rows.map((r) => [r.label, h('span', { class: 'mono' }, `${r.values.map((v) => fmt.metric(v, 3)).join(', ')}${r.truncated ? ', …' : ''}`)]),
          { hideCaption: true },
        )
      : h('p', { class: 'sub' }, 'No preview.');

  const page = h(
    'section',
    { class: 'page dataset-page', 'data-dataset-id': d.id },
    h('p', { class: 'crumbs' }, h('a', { href: '#/datasets' }, 'Datasets'), ' / '),
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, d.name), h('p', { class: 'sub' }, d.description)),
      h('div', { class: 'actions' }, h('a', { class: 'button primary', href: href('/new', { dataset: d.id }) }, 'Train on it'), del),
    ),
    h(
      'div',
      { class: 'two-col' },
      histogram,
      card(
        'Summary',
        details([
          ['Id', h('code', null, d.id)],
          ['Format', d.builtin ? 'built in' : d.format],
          ['Examples', fmt.count(d.examples)],
          ['Example shape', h('span', { class: 'mono' }, fmt.shape(d.inputShape))],
          ['Classes', `${d.numClasses}: ${classes.join(', ')}`],
          ['Values', `${d.dtype}, ${d.valueRange.join(' … ')}`],
          ['Stored', fmt.bytes(d.sizeBytes)],
          ['Uploaded', d.uploadBytes !== null ? `${fmt.bytes(d.uploadBytes)}, ${fmt.timestamp(d.createdAt)}` : '—'],
        ]),
      ),
    ),
    h(
      'div',
      { class: 'two-col' },
      card('Samples', samples),
      card(
        'Per-channel statistics',
        channels.length
          ? table('Mean and standard deviation of each channel', ['Channel', 'Mean', 'Std'], channels, { hideCaption: true })
          : h('p', { class: 'sub' }, 'No statistics for this dataset.'),
      ),
    ),
  );
  if (d.perClassCounts) {
    const chart = barChart(histogramHost, { labels: classes, label: 'examples', color: PALETTE[2], height: 220, format: (v) => fmt.compact(v) });
    chart.update(d.perClassCounts);
    signal.addEventListener('abort', () => chart.destroy(), { once: true });
  }
  return page;
}
