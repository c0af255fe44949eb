import { api } from '../lib/api.js';
import { barChart, PALETTE } from '../lib/charts.js';
import { field, h, mount } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import type { Model, Prediction } from '../lib/types.js';
import { errorBlock } from '../lib/ui.js';
import { DrawPad } from '../digit/draw-pad.js';
import { toValueRange } from '../digit/preprocess.js';

/** Probabilities as bars, with the top classes as text (what a screen reader reads). */
class Probabilities {
  readonly el: HTMLElement;
  private readonly chart;
  private readonly top = h('ol', { class: 'top-classes', 'aria-live': 'polite' });
  private readonly verdict = h('p', { class: 'verdict', 'aria-live': 'polite' });

  constructor(private readonly model: Model) {
    const host = h('div', { role: 'img', 'aria-label': 'Probability of each class' });
    const labels = model.classNames.length === model.numClasses ? model.classNames : Array.from({ length: model.numClasses }, (_, i) => String(i));
    this.el = h('div', { class: 'probabilities' }, this.verdict, host, h('h3', null, 'Most likely'), this.top);
    this.chart = barChart(host, { labels, label: 'probability', color: PALETTE[0], yMax: 1, height: 200, format: (v) => `${Math.round(v * 100)}%` });
  }

  show(p: Prediction | null): void {
    const row = p?.predictions[0];
    this.chart.update(row ?? new Array(this.model.numClasses).fill(0));
    this.el.dataset.predicted = p ? String(p.labels[0]) : '';
    if (!p || !row) {
      this.verdict.textContent = 'No prediction yet.';
      this.top.replaceChildren();
      return;
    }
    this.verdict.replaceChildren('Prediction: ', h('strong', { class: 'predicted-label' }, p.labels[0]), ` (${fmt.percent(row[p.classes[0]])})`);
    const order = row
      .map((v, i) => [v, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 3);
    this.top.replaceChildren(...order.map(([v, i]) => h('li', null, `${this.model.classNames[i] ?? i}: ${fmt.percent(v)}`)));
  }

  destroy(): void {
    this.chart.destroy();
  }
}

/** Sends at most one request at a time and, when it returns, the latest instance that came in meanwhile. */
function latestOnly(send: (instance: unknown) => Promise<void>): (instance: unknown) => void {
  let busy = false;
  let queued: { instance: unknown } | null = null;
  const run = async (instance: unknown) => {
    busy = true;
    try {
      await send(instance);
    } finally {
      busy = false;
      if (queued) {
        const next = queued.instance;
        queued = null;
        void run(next);
      }
    }
  };
  return (instance) => {
    if (busy) queued = { instance };
    else void run(instance);
  };
}

function fileToBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** How to ask a model for a prediction: draw (28×28×1), upload an image (image models), feature fields (tabular), or JSON. */
export function predictPanel(model: Model, signal: AbortSignal): HTMLElement {
  const probabilities = new Probabilities(model);
  signal.addEventListener('abort', () => probabilities.destroy(), { once: true });
  const errorHost = h('div');
  const status = h('p', { class: 'sub', role: 'status' });
  probabilities.show(null);

  const predict = async (instance: unknown) => {
    status.textContent = 'Predicting…';
    try {
      const p = await api.post<Prediction>(`/v1/models/${model.id}/predict`, { instances: [instance] }, { signal });
      probabilities.show(p);
      mount(errorHost);
      status.textContent = '';
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      status.textContent = '';
      mount(errorHost, errorBlock(err));
    }
  };
  const send = latestOnly(predict);
  const shape = model.inputShape;
  const range = model.preprocessing.valueRange;
  let input: HTMLElement;

  if (shape.length === 3 && shape[0] === 28 && shape[1] === 28 && shape[2] === 1) {
    // Predicted as you draw: each stroke sends the MNIST-style instance.
    const pad = new DrawPad((instance) => {
      if (instance.empty) probabilities.show(null);
      else send(toValueRange(instance.pixels, range));
    });
    input = h('div', null, h('h3', null, 'Draw a digit'), pad.el);
  } else if (model.preprocessing.image) {
    const img = model.preprocessing.image;
    const file = h('input', { type: 'file', accept: 'image/png,image/jpeg' });
    const preview = h('img', { class: 'upload-preview', alt: '', hidden: true });
    file.addEventListener('change', async () => {
      const f = file.files?.[0];
      if (!f) return;
      preview.src = URL.createObjectURL(f);
      preview.hidden = false;
      preview.alt = `The uploaded image, ${f.name}`;
      send({ b64: await fileToBase64(f) });
    });
    input = h('div', null, field('Image (PNG or JPEG)', file, `Resized to ${img.width}×${img.height}, ${img.channels === 1 ? 'grayscale' : 'RGB'}, as in training.`).wrap, preview);
  } else if (shape.length === 1 && shape[0] <= 64) {
    const inputs = Array.from({ length: shape[0] }, (_, i) => h('input', { type: 'text', inputmode: 'decimal', id: `feature-${i}`, value: '0', autocomplete: 'off' }));
    const go = h('button', { type: 'submit', class: 'primary' }, 'Predict');
    const form = h(
      'form',
      { class: 'features', 'aria-label': 'Feature values' },
      h(
        'div',
        { class: 'grid-4' },
        inputs.map((el, i) => field(`Feature ${i + 1}`, el).wrap),
      ),
      h('div', { class: 'actions' }, go),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      send(inputs.map((el) => Number(el.value)));
    });
    input = h(
      'div',
      null,
      h('h3', null, `Features (${shape[0]})`),
      h('p', { class: 'hint' }, `Raw values as in the dataset (trained on values in ${range[0]}…${range[1]}).`),
      form,
    );
  } else {
    const area = h('textarea', { rows: 6, spellcheck: 'false' });
    const go = h('button', { type: 'button', class: 'primary' }, 'Predict');
    const f = field(`One instance as JSON (shape ${shape.join('×')}, or flat)`, area);
    go.addEventListener('click', () => {
      try {
        f.setError(null);
        send(JSON.parse(area.value));
      } catch (err) {
        f.setError(err instanceof SyntaxError ? `Not valid JSON: ${err.message}` : String(err));
      }
    });
    input = h('div', null, f.wrap, h('div', { class: 'actions' }, go));
  }

  return h('div', { class: 'predict-grid' }, input, h('div', null, h('h3', null, 'Probabilities'), probabilities.el, status, errorHost));
}
