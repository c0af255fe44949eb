import { api, ApiError, upload } from '../lib/api.js';
import { field, h, mount, option } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import type { Dataset } from '../lib/types.js';
import { card, errorBlock, progressBar, table } from '../lib/ui.js';
import type { ViewContext } from '../lib/view.js';

/** The parts each upload format takes (POST /v1/datasets, multipart). */
const FORMATS: Record<string, { label: string; files: { part: string; label: string; accept?: string }[]; options: { part: string; label: string; hint?: string }[] }> = {
  idx: {
    label: 'IDX (the MNIST files)',
    files: [
      { part: 'images', label: 'Images file (e.g. train-images-idx3-ubyte, raw or .gz)' },
      { part: 'labels', label: 'Labels file (e.g. train-labels-idx1-ubyte, raw or .gz)' },
    ],
    options: [],
  },
  csv: {
    label: 'CSV (a header row, numeric features)',
    files: [{ part: 'file', label: 'CSV file', accept: '.csv,text/csv' }],
    options: [{ part: 'labelColumn', label: 'Label column', hint: 'by name; default: the last column' }],
  },
  npy: {
    label: 'NumPy (x.npy and y.npy)',
    files: [
      { part: 'x', label: 'x.npy (examples along the first axis)', accept: '.npy' },
      { part: 'y', label: 'y.npy (class indices or one-hot rows)', accept: '.npy' },
    ],
    options: [],
  },
  images: {
    label: 'Images (a zip with one folder per class)',
    files: [{ part: 'file', label: 'Zip of PNG/JPEG images', accept: '.zip,application/zip' }],
    options: [
      { part: 'width', label: 'Width', hint: 'pixels' },
      { part: 'height', label: 'Height', hint: 'pixels' },
      { part: 'channels', label: 'Channels', hint: '1 (grayscale) or 3 (RGB)' },
    ],
  },
};

function uploadForm(ctx: ViewContext): HTMLElement {
  const format = h(
    'select',
    { id: 'upload-format', name: 'format' },
    Object.entries(FORMATS).map(([k, f]) => option(k, f.label)),
  );
  const name = h('input', { type: 'text', id: 'upload-name', name: 'name', autocomplete: 'off', placeholder: 'e.g. mnist-full' });
  const partsHost = h('div', { class: 'grid-2' });
  const bar = progressBar('Upload progress');
  const barText = h('span', { class: 'sub', 'aria-live': 'polite' });
  const progress = h('div', { class: 'upload-progress', hidden: true }, bar, barText);
  const errorHost = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Upload');
  const cancel = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Cancel upload');
  let controls: { part: string; el: HTMLInputElement; setError(m: string | null): void }[] = [];

  const renderParts = () => {
    const f = FORMATS[format.value];
    controls = [];
    const wraps = [
      ...f.files.map((file) => {
        const el = h('input', { type: 'file', id: `upload-${file.part}`, name: file.part, accept: file.accept, required: true });
        const fl = field(file.label, el);
        controls.push({ part: file.part, el, setError: fl.setError });
        return fl.wrap;
      }),
      ...f.options.map((o) => {
        const el = h('input', { type: 'text', id: `upload-${o.part}`, name: o.part, autocomplete: 'off', placeholder: o.hint });
        const fl = field(o.label, el);
        controls.push({ part: o.part, el, setError: fl.setError });
        return fl.wrap;
      }),
    ];
    mount(partsHost, wraps);
  };
  format.addEventListener('change', renderParts);
  renderParts();

  const form = h(
    'form',
    { class: 'upload-form', 'aria-label': 'Upload a dataset' },
    h('div', { class: 'grid-2' }, field('Format', format).wrap, field('Name', name, 'optional').wrap),
    partsHost,
    h('div', { class: 'actions' }, submit, cancel),
    progress,
    errorHost,
  );
  let aborter: AbortController | null = null;
  cancel.addEventListener('click', () => aborter?.abort());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    mount(errorHost);
    for (const c of controls) c.setError(null);
    const missing = controls.filter((c) => c.el.type === 'file' && !c.el.files?.length);
    for (const c of missing) c.setError('Choose a file.');
    if (missing.length) {
      missing[0].el.focus();
      return;
    }
    const data = new FormData();
    data.append('format', format.value);
    if (name.value.trim()) data.append('name', name.value.trim());
    // Fields first, files last: the server reads the options before it streams the files.
    for (const c of controls) if (c.el.type !== 'file' && c.el.value.trim()) data.append(c.part, c.el.value.trim());
    for (const c of controls) if (c.el.type === 'file' && c.el.files?.[0]) data.append(c.part, c.el.files[0]);
    aborter = new AbortController();
    submit.disabled = true;
    cancel.hidden = false;
    progress.hidden = false;
    bar.value = 0;
    try {
      const res = await upload<Dataset>(
        '/v1/datasets',
        data,
        (loaded, total) => {
          bar.value = total ? (loaded / total) * 100 : 0;
          barText.textContent = total ? `${fmt.bytes(loaded)} of ${fmt.bytes(total)}${loaded >= total ? ' — checking and parsing…' : ''}` : fmt.bytes(loaded);
        },
        aborter.signal,
      );
      ctx.notify(res.status === 201 ? `Dataset ${res.body.name} uploaded.` : `The same data was uploaded before: ${res.body.name}.`, 'success');
      ctx.navigate(href(`/datasets/${res.body.id}`));
    } catch (err) {
      if ((err as Error).name === 'AbortError') {
        barText.textContent = 'Upload cancelled.';
      } else {
        progress.hidden = true;
        if (err instanceof ApiError) {
          for (const p of err.errors) controls.find((c) => p.field === c.part || p.field.endsWith(`.${c.part}`))?.setError(p.message);
        }
        mount(errorHost, errorBlock(err));
      }
    } finally {
      submit.disabled = false;
      cancel.hidden = true;
      aborter = null;
    }
  });
  return form;
}

export async function datasetsView(ctx: ViewContext): Promise<HTMLElement> {
  const { items } = await api.get<{ items: Dataset[] }>('/v1/datasets', { signal: ctx.signal });
  const rows = items.map((d) => [
    h('a', { href: href(`/datasets/${encodeURIComponent(d.id)}`) }, d.name),
    d.builtin ? h('span', { class: 'badge status-queued' }, 'built in') : d.format,
    h('span', { class: 'num' }, fmt.count(d.examples)),
    h('span', { class: 'mono' }, fmt.shape(d.inputShape)),
    String(d.numClasses),
    fmt.bytes(d.sizeBytes),
    d.createdAt ? h('span', { title: fmt.timestamp(d.createdAt) }, fmt.ago(d.createdAt)) : '—',
  ]);
  return h(
    'section',
    { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Datasets')),
    card(
      'Your datasets',
      table('Datasets: the built-in ones and your uploads', ['Name', 'Format', 'Examples', 'Example shape', 'Classes', 'Size', 'Uploaded'], rows, { hideCaption: true }),
    ),
    card('Upload a dataset', h('p', { class: 'hint' }, 'Files are streamed to the server and checked there; a broken file is refused with the reason.'), uploadForm(ctx)),
  );
}
