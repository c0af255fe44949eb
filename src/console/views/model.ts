import { api } from '../lib/api.js';
import { h } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import type { Job, LayerSpec, Model, RegisteredModel } from '../lib/types.js';
import { card, details } from '../lib/ui.js';
import type { ViewContext } from '../lib/view.js';
import { predictPanel } from './predict.js';
import { download, registerForm } from './registry-actions.js';

/** `conv2d 32 · 5×5 · same · relu`: a layer in one line. */
export function describeLayer(l: LayerSpec): string {
  const win = (v: unknown) => (Array.isArray(v) ? v.join('×') : v !== undefined ? `${v}×${v}` : undefined);
  const parts: (string | undefined)[] = [l.type];
  if (l.type === 'conv2d') parts.push(`${l.filters} filters`, win(l.kernelSize), l.strides !== undefined && l.strides !== 1 ? `stride ${win(l.strides)}` : undefined);
  if (l.type === 'maxPool2d' || l.type === 'avgPool2d') parts.push(win(l.poolSize ?? 2), l.strides !== undefined ? `stride ${win(l.strides)}` : undefined);
  if (l.type === 'dense') parts.push(`${l.units} units`);
  if (l.type === 'dropout') parts.push(`rate ${l.rate}`);
  if (l.type === 'inception') parts.push(`${(l.branches as unknown[]).length} branches`);
  if (l.padding !== undefined) parts.push(typeof l.padding === 'string' ? l.padding : `pad ${JSON.stringify(l.padding)}`);
  if (typeof l.activation === 'string' && l.activation !== 'linear') parts.push(l.activation);
  return parts.filter(Boolean).join(' · ');
}

export async function modelView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const model = await api.get<Model>(`/v1/models/${encodeURIComponent(ctx.route.params.id)}`, { signal });
  const job = await api.get<Job>(`/v1/jobs/${model.jobId}`, { signal }).catch(() => null);
  const registered = job?.registeredAs ? await api.get<RegisteredModel>(`/v1/registered-models/${encodeURIComponent(job.registeredAs.name)}`, { signal }).catch(() => null) : null;
  const version = registered?.versions.find((v) => v.modelId === model.id);
  const m = model.metrics;
  const title = model.name ?? `model ${model.id.slice(0, 8)}`;
  const downloadButton = (file: string) => {
    const b = h('button', { type: 'button', class: 'secondary' }, `Download ${file}`);
    b.addEventListener('click', () =>
      download(`/v1/models/${model.id}/artifact/${file}`, file, signal).catch((err) => ctx.notify(`Could not download ${file}: ${(err as Error).message}`, 'error')),
    );
    return b;
  };

  return h(
    'section',
    { class: 'page model-page', 'data-model-id': model.id },
    h('p', { class: 'crumbs' }, h('a', { href: '#/models' }, 'Models'), ' / '),
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', null, title),
        h(
          'div',
          { class: 'head-meta' },
          version ? h('span', { class: 'badge status-succeeded' }, `${version.name} v${version.version}`) : null,
          version?.aliases.map((a) => h('span', { class: 'badge alias' }, `@${a}`)),
          h('code', { class: 'sub' }, model.id),
        ),
      ),
    ),
    card('Predict', predictPanel(model, signal)),
    h(
      'div',
      { class: 'two-col' },
      card(
        'Metrics',
        h(
          'div',
          { class: 'stats' },
          [
            [fmt.percent(m.testAccuracy, 2), 'test accuracy'],
            [fmt.metric(m.testLoss), 'test loss'],
            [fmt.percent(m.valAccuracy, 2), 'validation accuracy'],
            [fmt.metric(m.valLoss), 'validation loss'],
            [fmt.percent(m.accuracy, 2), 'train accuracy'],
            [String(m.epochs), 'epochs'],
          ].map(([v, l]) => h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, v), h('span', { class: 'stat-label' }, l))),
        ),
      ),
      card(
        'Lineage',
        details([
          ['Trained by', h('a', { href: href(`/jobs/${model.jobId}`) }, job?.name ?? model.jobId)],
          [
            'Dataset',
            job
              ? [h('a', { href: href(`/datasets/${encodeURIComponent(job.dataset.id)}`) }, job.dataset.id), job.dataset.limit ? ` (first ${fmt.count(job.dataset.limit)})` : '']
              : '—',
          ],
          ['Split', job?.split ? `${fmt.count(job.split.train)} / ${fmt.count(job.split.validation)} / ${fmt.count(job.split.test)} (seed ${job.split.seed})` : '—'],
          [
            'Registered',
            version
              ? h(
                  'a',
                  { href: href(`/registry/${encodeURIComponent(version.name)}`) },
                  `${version.name} v${version.version}${version.aliases.length ? ` (${version.aliases.map((a) => `@${a}`).join(', ')})` : ''}`,
                )
              : 'not registered',
          ],
          ['Engine', `${model.engine.name} ${model.engine.version}`],
          [
            'Input',
            `${fmt.shape(model.inputShape)} · values ${model.preprocessing.valueRange.join('…')}${model.preprocessing.normalization ? ` · ${model.preprocessing.normalization.kind}` : ''}`,
          ],
          ['Classes', model.classNames.join(', ')],
          ['Size', fmt.bytes(model.sizeBytes)],
          ['Created', fmt.timestamp(model.createdAt)],
        ]),
      ),
    ),
    h(
      'div',
      { class: 'two-col' },
      card(
        'Register',
        h(
          'p',
          { class: 'hint' },
          version
            ? `This model is ${version.name} v${version.version}. Register it under another name, or as a new version:`
            : 'Give this model a name and a version number in the registry:',
        ),
        registerForm(ctx, model.id),
      ),
      card(
        'Download',
        h('p', { class: 'hint' }, 'The TensorFlow.js layers format: tf.loadLayersModel reads model.json with weights.bin beside it.'),
        h('div', { class: 'actions' }, downloadButton('model.json'), downloadButton('weights.bin')),
      ),
    ),
    card(
      'Architecture',
      h('p', { class: 'sub mono' }, `input ${fmt.shape(model.spec.input.shape)}`),
      h(
        'ol',
        { class: 'arch' },
        model.spec.layers.map((l) => h('li', null, describeLayer(l))),
      ),
    ),
  );
}
