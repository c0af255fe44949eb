import { api } from '../lib/api.js';
import { h } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import type { Model, Page, RegisteredModel, RegisteredModelSummary } from '../lib/types.js';
import { card, emptyState, table } from '../lib/ui.js';
import type { ViewContext } from '../lib/view.js';
import { aliasForm } from './registry-actions.js';

export async function modelsView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const [models, registry] = await Promise.all([
    api.get<Page<Model>>('/v1/models?limit=100', { signal }),
    api.get<Page<RegisteredModelSummary>>('/v1/registered-models?limit=100', { signal }).catch(() => ({ items: [], nextCursor: null })),
  ]);
  const modelRows = models.items.map((m) => [
    h('a', { href: href(`/models/${m.id}`) }, m.name ?? m.id.slice(0, 8)),
    h('span', { class: 'num' }, fmt.percent(m.metrics.testAccuracy, 2)),
    h('span', { class: 'num' }, fmt.percent(m.metrics.valAccuracy, 2)),
    h('span', { class: 'mono' }, fmt.shape(m.inputShape)),
    String(m.numClasses),
    h('a', { href: href(`/jobs/${m.jobId}`) }, m.jobId.slice(0, 8)),
    fmt.bytes(m.sizeBytes),
    h('span', { title: fmt.timestamp(m.createdAt) }, fmt.ago(m.createdAt)),
  ]);
  const regRows = registry.items.map((r) => [
    h('a', { href: href(`/registry/${encodeURIComponent(r.name)}`) }, r.name),
    String(r.versionCount),
    r.latest ? h('a', { href: href(`/models/${r.latest.modelId}`) }, `v${r.latest.version}`) : '—',
    r.aliases.length ? r.aliases.map((a) => h('span', { class: 'badge alias' }, `@${a.alias} → v${a.version}`)) : '—',
    h('span', { title: fmt.timestamp(r.updatedAt) }, fmt.ago(r.updatedAt)),
  ]);
  return h(
    'section',
    { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Models')),
    card(
      'Trained models',
      modelRows.length
        ? table('Trained models, newest first', ['Model', 'Test acc.', 'Val acc.', 'Input', 'Classes', 'Job', 'Size', 'Created'], modelRows, { hideCaption: true })
        : emptyState('No trained model yet: a job that succeeds stores one.', h('a', { href: '#/new', class: 'button primary' }, 'Train a model')),
    ),
    card(
      'Registered models',
      regRows.length
        ? table('Registered models', ['Name', 'Versions', 'Latest', 'Aliases', 'Updated'], regRows, { hideCaption: true })
        : emptyState('No registered model. Register a job’s model when you submit it (“Register the model as”), or with POST /v1/registered-models/{name}/versions.'),
    ),
  );
}

export async function registeredModelView(ctx: ViewContext): Promise<HTMLElement> {
  const r = await api.get<RegisteredModel>(`/v1/registered-models/${encodeURIComponent(ctx.route.params.name)}`, { signal: ctx.signal });
  // After an alias changes, the view is drawn again from the API.
  const reload = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
  const rows = [...r.versions].reverse().map((v) => [
    h('a', { href: href(`/models/${v.modelId}`) }, `v${v.version}`),
    v.aliases.length ? v.aliases.map((a) => h('span', { class: 'badge alias' }, `@${a}`)) : '—',
    h('span', { class: 'num' }, fmt.percent(v.lineage.metrics.testAccuracy ?? null, 2)),
    h('a', { href: href(`/jobs/${v.lineage.jobId}`) }, v.lineage.jobId.slice(0, 8)),
    `${v.lineage.datasetId}${v.lineage.datasetLimit ? ` ×${fmt.count(v.lineage.datasetLimit)}` : ''}`,
    Object.entries(v.lineage.hyperparameters)
      .map(([k, val]) => `${k} ${JSON.stringify(val)}`)
      .join(', ') || 'defaults',
    h('span', { title: fmt.timestamp(v.createdAt) }, fmt.ago(v.createdAt)),
  ]);
  return h(
    'section',
    { class: 'page' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/models' }, 'Models'), ' / registered'),
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', null, r.name),
        h(
          'div',
          { class: 'head-meta' },
          r.aliases.map((a) => h('span', { class: 'badge alias' }, `@${a.alias} → v${a.version}`)),
        ),
      ),
    ),
    card(
      'Versions',
      table(`Versions of ${r.name}, newest first`, ['Version', 'Aliases', 'Test acc.', 'Job', 'Dataset', 'Hyperparameters', 'Registered'], rows, { hideCaption: true }),
    ),
    r.versions.length
      ? card('Aliases', h('p', { class: 'hint' }, 'Clients that predict through an alias (e.g. production) follow it when it moves.'), aliasForm(ctx, r, reload))
      : null,
  );
}
