import { ApiError, api, type FieldProblem } from '../lib/api.js';
import { field, h, mount, option } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { href } from '../lib/router.js';
import { nearestPath, parseNumber } from '../lib/spec-input.js';
import { type Job, SWEEP_METRICS, type Sweep } from '../lib/types.js';
import { card, errorBlock } from '../lib/ui.js';
import type { ViewContext } from '../lib/view.js';
import { LESSON_MNIST_MODEL } from './new-job-start.js';

/** The body of POST /v1/sweeps as the form holds it. */
interface SweepBody {
  name?: string;
  base: Record<string, unknown>;
  space: Record<string, unknown>;
  algorithm: string;
  objective: { metric: string; goal?: string };
  maxTrials?: unknown;
  parallelism?: unknown;
  seed?: unknown;
  earlyStopping?: Record<string, unknown>;
}

/** The lesson's network over a learning rate and the first layer's width, six trials, ASHA cutting the weak ones. */
export const EXAMPLE_SWEEP: SweepBody = {
  name: 'lr-and-width',
  base: { model: LESSON_MNIST_MODEL, training: { epochs: 3, batchSize: 64 }, dataset: { id: 'mnist', limit: 3000 } },
  space: { 'training.learningRate': { logUniform: [0.0001, 0.01] }, 'model.layers[0].filters': { values: [16, 32, 64] } },
  algorithm: 'random',
  objective: { metric: 'valAccuracy', goal: 'maximize' },
  maxTrials: 6,
  parallelism: 2,
  earlyStopping: { type: 'asha', minEpochs: 1, reductionFactor: 3 },
};

/** Where the form starts: the example, a sweep to run again (`?from=`), or a job to search around (`?job=`). */
async function startingBody(ctx: ViewContext): Promise<{ body: SweepBody; note: HTMLElement | null }> {
  const from = ctx.route.query.get('from');
  const job = ctx.route.query.get('job');
  try {
    if (from) {
      const s = await api.get<Sweep>(`/v1/sweeps/${encodeURIComponent(from)}`, { signal: ctx.signal });
      const body: SweepBody = {
        name: s.name ? `${s.name}-again` : undefined,
        base: (s.base ?? EXAMPLE_SWEEP.base) as Record<string, unknown>,
        space: s.space,
        algorithm: s.algorithm,
        objective: s.objective,
        maxTrials: s.maxTrials,
        parallelism: s.parallelism,
        seed: s.seed,
        earlyStopping: s.earlyStopping ? { ...s.earlyStopping } : undefined,
      };
      return { body, note: h('p', { class: 'notice' }, 'Prefilled from ', h('a', { href: href(`/sweeps/${s.id}`) }, s.name ?? s.id), '.') };
    }
    if (job) {
      const j = await api.get<Job>(`/v1/jobs/${encodeURIComponent(job)}`, { signal: ctx.signal });
      const base = j.spec ? { model: j.spec.model, training: j.spec.training, dataset: j.dataset } : EXAMPLE_SWEEP.base;
      return {
        body: { ...EXAMPLE_SWEEP, name: `${j.name ?? 'job'}-sweep`, base },
        note: h('p', { class: 'notice' }, 'The base job is ', h('a', { href: href(`/jobs/${j.id}`) }, j.name ?? j.id), '; adjust the space to its layers.'),
      };
    }
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    return { body: structuredClone(EXAMPLE_SWEEP), note: h('div', null, h('p', null, 'Could not prefill the form; starting from the example.'), errorBlock(err)) };
  }
  return { body: structuredClone(EXAMPLE_SWEEP), note: null };
}

const textInput = (id: string, value: unknown, extra: Record<string, unknown> = {}) =>
  h('input', { type: 'text', id, autocomplete: 'off', value: value === undefined || value === null ? '' : String(value), ...extra });

export async function newSweepView(ctx: ViewContext): Promise<HTMLElement> {
  const { signal } = ctx;
  const start = await startingBody(ctx);
  const body = start.body;
  const es = body.earlyStopping ?? {};

  const nameInput = textInput('sweep-name', body.name, { placeholder: 'e.g. lr-and-width' });
  const baseArea = h('textarea', { id: 'sweep-base', rows: 16, spellcheck: 'false', wrap: 'off', value: fmt.compactJson(body.base) });
  const spaceArea = h('textarea', { id: 'sweep-space', rows: 4, spellcheck: 'false', wrap: 'off', value: fmt.compactJson(body.space) });
  const algorithm = h(
    'select',
    { id: 'sweep-algorithm' },
    ['random', 'grid', 'tpe'].map((v) => option(v, v, body.algorithm === v)),
  );
  const metric = h(
    'select',
    { id: 'sweep-metric' },
    SWEEP_METRICS.map((m) => option(m, m, body.objective.metric === m)),
  );
  const goal = h(
    'select',
    { id: 'sweep-goal' },
    option('', 'default (accuracies up, losses down)', !body.objective.goal),
    option('maximize', 'maximize', body.objective.goal === 'maximize'),
    option('minimize', 'minimize', body.objective.goal === 'minimize'),
  );
  const maxTrials = textInput('sweep-maxTrials', body.maxTrials, { inputmode: 'numeric', placeholder: '10 (grid: its size)' });
  const parallelism = textInput('sweep-parallelism', body.parallelism, { inputmode: 'numeric', placeholder: '2' });
  const seed = textInput('sweep-seed', body.seed, { inputmode: 'numeric', placeholder: '42' });
  const esType = h('select', { id: 'sweep-es-type' }, option('', 'none', !es.type), option('asha', 'ASHA', es.type === 'asha'), option('median', 'median', es.type === 'median'));
  const minEpochs = textInput('sweep-es-minEpochs', es.minEpochs, { inputmode: 'numeric', placeholder: '1' });
  const reductionFactor = textInput('sweep-es-reductionFactor', es.reductionFactor, { inputmode: 'numeric', placeholder: '3' });
  const minTrials = textInput('sweep-es-minTrials', es.minTrials, { inputmode: 'numeric', placeholder: '3' });

  const fields = {
    name: field('Name', nameInput, 'optional; trials are named "<name> trial <n>"'),
    base: field('Base job (JSON)', baseArea, 'model, training and dataset, as in POST /v1/jobs. Every trial trains a copy of it with its sampled values set.'),
    space: field(
      'Search space (JSON)',
      spaceArea,
      'Paths into the job mapped to distributions: {"uniform": [a, b]}, {"logUniform": [a, b]}, {"intUniform": [a, b]} or {"values": [...]}; e.g. "training.learningRate", "model.layers[0].filters".',
    ),
    algorithm: field('Algorithm', algorithm, 'random: drawn from the seed; grid: every combination; tpe: learns from finished trials'),
    metric: field('Objective metric', metric, "its value at a trial's last epoch"),
    goal: field('Goal', goal),
    maxTrials: field('Trials', maxTrials, '1 to 200'),
    parallelism: field('At a time', parallelism, 'trials queued or training at once'),
    seed: field('Seed', seed, 'of the search; blank: 42'),
    esType: field('Rule', esType, 'ASHA: successive halving; median: below the median stops'),
    minEpochs: field('Min epochs', minEpochs, 'first rung (ASHA) or grace period (median)'),
    reductionFactor: field('Reduction factor', reductionFactor, 'ASHA: keep the top 1/this at each rung'),
    minTrials: field('Min trials', minTrials, 'median: other trials needed first'),
  };
  // Where each field the API names shows its message (deeper paths go to the nearest one that is here).
  const sinks = new Map<string, ReturnType<typeof field>>([
    ['name', fields.name],
    ['base', fields.base],
    ['space', fields.space],
    ['algorithm', fields.algorithm],
    ['objective', fields.metric],
    ['objective.metric', fields.metric],
    ['objective.goal', fields.goal],
    ['maxTrials', fields.maxTrials],
    ['parallelism', fields.parallelism],
    ['seed', fields.seed],
    ['earlyStopping', fields.esType],
    ['earlyStopping.type', fields.esType],
    ['earlyStopping.minEpochs', fields.minEpochs],
    ['earlyStopping.reductionFactor', fields.reductionFactor],
    ['earlyStopping.minTrials', fields.minTrials],
    // A base job's training field a trial cannot do without (a validation split for a val* objective) is in the base.
    ['training', fields.base],
  ]);

  const showEsFields = () => {
    fields.minEpochs.wrap.hidden = !esType.value;
    fields.reductionFactor.wrap.hidden = esType.value !== 'asha';
    fields.minTrials.wrap.hidden = esType.value !== 'median';
  };
  esType.addEventListener('change', showEsFields);
  showEsFields();

  const generalErrors = h('div', { 'aria-live': 'polite' });
  const preview = h('pre', { class: 'json-preview' });

  const clearErrors = () => {
    for (const f of new Set(sinks.values())) f.setError(null);
    mount(generalErrors);
  };

  /** The body to send, or null when a JSON box does not parse (its message is then at the box). */
  function collect(): SweepBody | null {
    let ok = true;
    const json = (area: HTMLTextAreaElement, f: ReturnType<typeof field>, what: string): Record<string, unknown> => {
      try {
        const v = JSON.parse(area.value) as unknown;
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} must be a JSON object`);
        return v as Record<string, unknown>;
      } catch (err) {
        ok = false;
        f.setError(err instanceof SyntaxError ? `${what} is not valid JSON: ${err.message}` : (err as Error).message);
        return {};
      }
    };
    const out: SweepBody = {
      base: json(baseArea, fields.base, 'base'),
      space: json(spaceArea, fields.space, 'space'),
      algorithm: algorithm.value,
      objective: { metric: metric.value, ...(goal.value ? { goal: goal.value } : {}) },
    };
    if (nameInput.value.trim()) out.name = nameInput.value.trim();
    // Numbers as typed: text that is not a number goes as is, for the API to name the mistake.
    for (const [key, input] of [
      ['maxTrials', maxTrials],
      ['parallelism', parallelism],
      ['seed', seed],
    ] as const)
      if (input.value.trim()) out[key] = parseNumber(input.value);
    if (esType.value) {
      const e: Record<string, unknown> = { type: esType.value };
      if (minEpochs.value.trim()) e.minEpochs = parseNumber(minEpochs.value);
      if (esType.value === 'asha' && reductionFactor.value.trim()) e.reductionFactor = parseNumber(reductionFactor.value);
      if (esType.value === 'median' && minTrials.value.trim()) e.minTrials = parseNumber(minTrials.value);
      out.earlyStopping = e;
    }
    return ok ? out : null;
  }

  const updatePreview = () => {
    const b = collect();
    preview.textContent = b ? fmt.compactJson(b) : '(fix the JSON above first)';
  };

  /** Each located problem at its field (several at one field are listed together); the rest above the button. */
  function showErrors(err: ApiError): void {
    clearErrors();
    const problems: FieldProblem[] = err.errors.length ? err.errors : [{ field: '', message: err.message }];
    const placed = new Map<ReturnType<typeof field>, string[]>();
    const unplaced: FieldProblem[] = [];
    for (const p of problems) {
      const path = p.field ? nearestPath(sinks, p.field) : undefined;
      const sink = path ? sinks.get(path) : undefined;
      if (!sink) {
        unplaced.push(p);
        continue;
      }
      // The message names the field when the box holds more than one (the space, the base job).
      const text = p.message.includes(p.field) ? p.message : `${p.field}: ${p.message}`;
      placed.set(sink, [...(placed.get(sink) ?? []), text]);
    }
    for (const [sink, messages] of placed) sink.setError(messages.join('\n'));
    if (unplaced.length || placed.size === 0)
      mount(
        generalErrors,
        h(
          'div',
          { class: 'notice error', role: 'alert' },
          h('p', null, err.message),
          unplaced.length && err.errors.length
            ? h(
                'ul',
                null,
                unplaced.map((p) => h('li', null, p.field ? [h('code', null, p.field), ': '] : null, p.message)),
              )
            : null,
        ),
      );
  }

  const submit = h('button', { type: 'submit', class: 'primary' }, 'Start sweep');
  const form = h(
    'form',
    { class: 'sweep-form', novalidate: true, 'aria-label': 'New sweep' },
    h('fieldset', null, h('legend', null, 'What to train'), fields.name.wrap, fields.base.wrap),
    h('fieldset', null, h('legend', null, 'What to search'), fields.space.wrap, h('div', { class: 'grid-3' }, fields.algorithm.wrap, fields.metric.wrap, fields.goal.wrap)),
    h('fieldset', null, h('legend', null, 'Budget'), h('div', { class: 'grid-3' }, fields.maxTrials.wrap, fields.parallelism.wrap, fields.seed.wrap)),
    h(
      'fieldset',
      null,
      h('legend', null, 'Early stopping'),
      h('div', { class: 'grid-4' }, fields.esType.wrap, fields.minEpochs.wrap, fields.reductionFactor.wrap, fields.minTrials.wrap),
    ),
    generalErrors,
    h('div', { class: 'actions sticky-actions' }, submit, h('span', { class: 'sub' }, 'Checks every trial before anything runs, then opens the sweep.')),
  );
  form.addEventListener('input', updatePreview);
  form.addEventListener('change', updatePreview);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    const b = collect();
    if (!b) {
      form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Checking…';
    try {
      const sweep = await api.post<Sweep>('/v1/sweeps', b, { signal });
      ctx.notify(`Sweep ${sweep.name ?? sweep.id} started.`, 'success');
      ctx.navigate(href(`/sweeps/${sweep.id}`));
    } catch (err) {
      if (err instanceof ApiError && err.status !== 401 && err.status !== 0) {
        showErrors(err);
        const first = form.querySelector<HTMLElement>('[aria-invalid="true"]');
        (first ?? generalErrors).scrollIntoView({ block: 'center' });
        first?.focus();
      } else if ((err as Error).name !== 'AbortError') mount(generalErrors, errorBlock(err));
    } finally {
      submit.disabled = false;
      submit.textContent = 'Start sweep';
    }
  });
  updatePreview();

  return h(
    'section',
    { class: 'page new-sweep' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/sweeps' }, 'Sweeps'), ' / '),
    h(
      'div',
      { class: 'page-head' },
      h(
        'div',
        null,
        h('h1', null, 'New sweep'),
        h(
          'p',
          { class: 'sub' },
          'Trains the base job many times with values drawn from the space and keeps the best trial. Prefilled with the lesson’s MNIST network over its learning rate and first layer’s width.',
        ),
      ),
    ),
    start.note,
    h(
      'div',
      { class: 'editor-grid' },
      h('div', { class: 'editor-col' }, form),
      h('div', { class: 'plan-col' }, card('Request body', h('p', { class: 'sub' }, 'What Start sweep sends to POST /v1/sweeps.'), preview)),
    ),
  );
}
