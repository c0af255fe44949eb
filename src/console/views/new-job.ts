import { ApiError, api, type FieldProblem } from '../lib/api.js';
import { debounce, field, h, mount, option } from '../lib/dom.js';
import { href } from '../lib/router.js';
import { bodyFromJson, type JobBody, nearestPath, parseNumber } from '../lib/spec-input.js';
import type { Dataset, Job, ModelPlan } from '../lib/types.js';
import { card, errorBlock, tabList } from '../lib/ui.js';
import type { ViewContext } from '../lib/view.js';
import { type ErrorSink, LayerEditor } from './layer-form.js';
import { renderPlan } from './plan-panel.js';
import { startingBody, TRAINING_FIELDS } from './new-job-start.js';

export async function newJobView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const datasets = await api.get<{ items: Dataset[] }>('/v1/datasets', { signal }).catch(() => ({ items: [] as Dataset[] }));
  const start = await startingBody(ctx, datasets.items);
  let body: JobBody = start.body;
  const fromNote = start.note;
  const errors: ErrorSink = new Map();
  const generalErrors = h('div', { 'aria-live': 'polite' });
  const planHost = h('div', { class: 'plan-host' }, h('p', { class: 'loading' }, 'Planning…'));
  const planStatus = h('span', { class: 'sub', role: 'status' });

  // Job fields
  const nameInput = h('input', {
    type: 'text',
    id: 'job-name',
    value: body.name ?? '',
    autocomplete: 'off',
  });
  const datasetSelect = h(
    'select',
    { id: 'job-dataset' },
    datasets.items.map((d) =>
      option(d.id, `${d.builtin ? d.id : d.name} — ${d.examples.toLocaleString('en-US')} × ${d.inputShape.join('×')}, ${d.numClasses} classes`, d.id === body.dataset.id),
    ),
  );
  if (!datasets.items.some((d) => d.id === body.dataset.id)) datasetSelect.prepend(option(body.dataset.id, body.dataset.id, true));
  const limitInput = h('input', {
    type: 'text',
    inputmode: 'numeric',
    id: 'job-limit',
    value: body.dataset.limit ?? '',
    placeholder: 'all',
  });
  const registerInput = h('input', {
    type: 'text',
    id: 'job-register',
    value: body.register?.name ?? '',
    placeholder: 'e.g. digits',
    autocomplete: 'off',
  });
  const inputShape = h('input', {
    type: 'text',
    id: 'model-input',
    inputmode: 'numeric',
    autocomplete: 'off',
  });
  const jobFields = {
    name: field('Name', nameInput),
    dataset: field('Dataset', datasetSelect),
    limit: field('Examples to use', limitInput, 'blank: all'),
    register: field('Register the model as', registerInput, 'optional: a registered model name'),
    shape: field('Input shape', inputShape, 'height, width, channels — or features'),
  };
  errors.set('name', jobFields.name.setError);
  errors.set('dataset', jobFields.dataset.setError);
  errors.set('dataset.id', jobFields.dataset.setError);
  errors.set('dataset.limit', jobFields.limit.setError);
  errors.set('register', jobFields.register.setError);
  errors.set('model.input', jobFields.shape.setError);

  const trainingControls = TRAINING_FIELDS.map((def) => {
    const id = `training-${def.key}`;
    const control = def.options
      ? h(
          'select',
          { id },
          def.options.map((o) => option(o, o, body.training[def.key] === o)),
        )
      : h('input', {
          type: 'text',
          id,
          inputmode: 'decimal',
          autocomplete: 'off',
          value: body.training[def.key] === undefined ? '' : String(body.training[def.key]),
        });
    const f = field(def.label, control, def.hint);
    errors.set(`training.${def.key}`, f.setError);
    control.addEventListener(def.options ? 'change' : 'input', () => {
      const v = control.value.trim();
      if (v === '') delete body.training[def.key];
      else body.training[def.key] = def.options ? v : parseNumber(v);
      changed();
    });
    return { def, control, f };
  });
  errors.set('training', (m) => trainingControls[0].f.setError(m));

  const layerHost = h('div');
  let editor: LayerEditor | null = null;
  const jsonArea = h('textarea', {
    id: 'job-json',
    rows: 28,
    spellcheck: 'false',
    'aria-describedby': 'job-json-hint job-json-error',
  });
  const jsonError = h('p', {
    class: 'field-error',
    id: 'job-json-error',
    role: 'alert',
    hidden: true,
  });

  function syncJobFieldsFromBody(): void {
    nameInput.value = body.name ?? '';
    if (![...datasetSelect.options].some((o) => o.value === body.dataset?.id)) datasetSelect.prepend(option(body.dataset?.id ?? '', body.dataset?.id ?? '', true));
    datasetSelect.value = body.dataset?.id ?? '';
    limitInput.value = body.dataset?.limit === undefined ? '' : String(body.dataset.limit);
    registerInput.value = body.register?.name ?? '';
    for (const { def, control } of trainingControls) control.value = body.training?.[def.key] === undefined ? '' : String(body.training[def.key]);
    const model = body.model;
    if ('keras' in model) {
      inputShape.value = '';
      inputShape.disabled = true;
      editor = null;
      mount(layerHost, h('p', { class: 'notice' }, 'This model is a Keras document: edit it in the JSON tab. The plan beside is of the converted model.'));
    } else {
      inputShape.disabled = false;
      inputShape.value = model.input?.shape?.join(', ') ?? '';
      editor = new LayerEditor({ model, onChange: changed, errors });
      mount(layerHost, editor.el);
    }
  }

  nameInput.addEventListener('input', () => {
    const v = nameInput.value.trim();
    if (v) body.name = v;
    else delete body.name;
    changed();
  });
  datasetSelect.addEventListener('change', () => {
    body.dataset = { ...body.dataset, id: datasetSelect.value };
    changed();
  });
  limitInput.addEventListener('input', () => {
    const v = limitInput.value.trim();
    const { limit: _drop, ...rest } = body.dataset;
    body.dataset = v === '' ? rest : { ...rest, limit: parseNumber(v) as number };
    changed();
  });
  registerInput.addEventListener('input', () => {
    const v = registerInput.value.trim();
    if (v) body.register = { name: v };
    else delete body.register;
    changed();
  });
  inputShape.addEventListener('input', () => {
    if ('keras' in body.model) return;
    const parts = inputShape.value.split(/[\s,x×]+/).filter(Boolean);
    body.model.input = { shape: parts.map((p) => parseNumber(p) as number) };
    changed();
  });

  // Tabs: the form, or the JSON body (paste a whole body, a model, or a Keras document).
  const tabs = tabList(
    'Edit as',
    [
      { id: 'form', label: 'Form' },
      {
        id: 'json',
        label: 'JSON',
        content: [
          h('label', { for: 'job-json' }, 'Job body (JSON)'),
          h(
            'p',
            { class: 'hint', id: 'job-json-hint' },
            'The body of POST /v1/jobs. Paste a whole body, just a model ({"input", "layers"}), or a Keras model.to_json() / tfjs model.json document: it replaces the model.',
          ),
          jsonArea,
          jsonError,
        ],
      },
    ],
    (which) => {
      if (which === 'json') jsonArea.value = JSON.stringify(body, null, 2);
      else syncJobFieldsFromBody();
      void plan();
    },
  );
  const formPanel = tabs.panels.form;
  const jsonPanel = tabs.panels.json;
  jsonArea.addEventListener('input', () => {
    try {
      body = bodyFromJson(JSON.parse(jsonArea.value), body);
      body.training ??= {};
      body.dataset ??= { id: 'mnist' };
      jsonError.hidden = true;
      jsonArea.removeAttribute('aria-invalid');
      changed();
    } catch (err) {
      jsonError.textContent = err instanceof SyntaxError ? `Not valid JSON: ${err.message}` : (err as Error).message;
      jsonError.hidden = false;
      jsonArea.setAttribute('aria-invalid', 'true');
    }
  });

  function clearErrors(prefix = ''): void {
    for (const [key, sink] of errors) if (key.startsWith(prefix)) sink(null);
    mount(generalErrors);
  }

  /** Puts each located error at its control; the rest (and everything, in the JSON tab) goes in the list above. */
  function showErrors(err: ApiError, prefix: string): void {
    clearErrors(prefix);
    const problems: FieldProblem[] = err.errors.length ? err.errors : [{ field: '', message: err.message }];
    const unplaced: FieldProblem[] = [];
    const inJson = !jsonPanel.hidden;
    for (const p of problems) {
      const path = p.field ? nearestPath(errors, p.field) : undefined;
      const sink = path ? errors.get(path) : undefined;
      if (sink && !inJson) sink(p.message);
      else unplaced.push(p);
    }
    if (unplaced.length)
      mount(
        generalErrors,
        h(
          'div',
          { class: 'notice error', role: 'alert' },
          h('p', null, err.message),
          h(
            'ul',
            null,
            unplaced.map((p) => h('li', null, p.field ? [h('code', null, p.field), ': '] : null, p.message)),
          ),
        ),
      );
  }

  let planSeq = 0;
  async function plan(): Promise<void> {
    const seq = ++planSeq;
    planStatus.textContent = 'Planning…';
    try {
      const result = await api.post<ModelPlan>('/v1/plan', { model: body.model }, { signal });
      if (seq !== planSeq) return;
      clearErrors('model');
      renderPlan(planHost, result);
      editor?.showPlan(result.layers);
      planStatus.textContent = `Planned: ${result.layers.length} layers`;
    } catch (err) {
      if (seq !== planSeq || (err as Error).name === 'AbortError') return;
      editor?.showPlan(null);
      planStatus.textContent = 'The model has a mistake';
      if (err instanceof ApiError && err.status === 400) {
        showErrors(err, 'model');
        mount(
          planHost,
          h(
            'div',
            { class: 'notice error plan-error', role: 'alert' },
            h('p', null, err.message),
            err.errors.map((e) => h('p', { class: 'sub' }, h('code', null, e.field))),
          ),
        );
      } else mount(planHost, errorBlock(err));
    }
  }
  const replan = debounce(() => void plan(), 250);
  signal.addEventListener('abort', () => replan.cancel());
  function changed(): void {
    replan();
  }

  const submit = h('button', { type: 'submit', class: 'primary' }, 'Start training');
  const form = h(
    'form',
    { class: 'job-form', novalidate: true, 'aria-label': 'New training job' },
    tabs.list,
    formPanel,
    jsonPanel,
    generalErrors,
    h('div', { class: 'actions sticky-actions' }, submit, h('span', { class: 'sub' }, 'Queues the job and opens its page.')),
  );
  formPanel.append(
    h('fieldset', null, h('legend', null, 'Job'), h('div', { class: 'grid-2' }, jobFields.name.wrap, jobFields.register.wrap, jobFields.dataset.wrap, jobFields.limit.wrap)),
    h('fieldset', null, h('legend', null, 'Model'), jobFields.shape.wrap, layerHost),
    h(
      'fieldset',
      null,
      h('legend', null, 'Training'),
      h(
        'div',
        { class: 'grid-3' },
        trainingControls.map((c) => c.f.wrap),
      ),
    ),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    submit.textContent = 'Submitting…';
    try {
      const job = await api.post<Job>('/v1/jobs', body, { signal });
      ctx.notify(`Job ${job.name ?? job.id} queued.`, 'success');
      ctx.navigate(href(`/jobs/${job.id}`));
    } catch (err) {
      if (err instanceof ApiError && err.status !== 401) {
        showErrors(err, '');
        const first = form.querySelector<HTMLElement>('[aria-invalid="true"]');
        (first ?? generalErrors).scrollIntoView({ block: 'center' });
        first?.focus();
      } else if ((err as Error).name !== 'AbortError') mount(generalErrors, errorBlock(err));
    } finally {
      submit.disabled = false;
      submit.textContent = 'Start training';
    }
  });

  syncJobFieldsFromBody();
  void plan();

  return h(
    'section',
    { class: 'page new-job' },
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', null, 'New job'),
        h('p', { class: 'sub' }, 'Prefilled with the lesson’s MNIST network. The plan follows as you type; mistakes show at the layer and field they concern.'),
      ),
    ),
    fromNote,
    h('div', { class: 'editor-grid' }, h('div', { class: 'editor-col' }, form), h('div', { class: 'plan-col' }, card('Plan', planStatus, planHost))),
  );
}
