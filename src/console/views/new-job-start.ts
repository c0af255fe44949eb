import { api } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { href } from '../lib/router.js';
import type { JobBody } from '../lib/spec-input.js';
import type { Dataset, Job, ModelSpec, TrainingSpec } from '../lib/types.js';
import { errorBlock } from '../lib/ui.js';
import type { ViewContext } from '../lib/view.js';

/** The lesson's MNIST network: two 5x5 SAME convolutions with 2x2 pooling, a 1024-unit dense layer with dropout, softmax. */
export const LESSON_MNIST_MODEL: ModelSpec = {
  input: { shape: [28, 28, 1] },
  layers: [
    {
      type: 'conv2d',
      filters: 32,
      kernelSize: 5,
      strides: 1,
      padding: 'same',
      activation: 'relu',
    },
    { type: 'maxPool2d', poolSize: 2, strides: 2, padding: 'same' },
    {
      type: 'conv2d',
      filters: 64,
      kernelSize: 5,
      padding: 'same',
      activation: 'relu',
    },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 1024, activation: 'relu' },
    { type: 'dropout', rate: 0.25 },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

export const TRAINING_FIELDS: {
  key: keyof TrainingSpec & string;
  label: string;
  hint?: string;
  options?: string[];
}[] = [
  {
    key: 'optimizer',
    label: 'Optimizer',
    options: ['adam', 'sgd', 'momentum', 'rmsprop'],
  },
  { key: 'learningRate', label: 'Learning rate' },
  { key: 'epochs', label: 'Epochs' },
  { key: 'batchSize', label: 'Batch size' },
  {
    key: 'validationSplit',
    label: 'Validation split',
    hint: 'fraction, e.g. 0.1',
  },
  { key: 'testSplit', label: 'Test split', hint: 'fraction, e.g. 0.1' },
  { key: 'seed', label: 'Seed' },
];

/**
 * What the editor starts from: the lesson's network on 2,000 MNIST digits;
 * or, from a dataset's "Train on it", a network fitted to that dataset; or,
 * from a job's "Edit as new job", that job's model and settings.
 */
export async function startingBody(ctx: ViewContext, datasets: Dataset[]): Promise<{ body: JobBody; note: HTMLElement | null }> {
  const { signal } = ctx;
  let body: JobBody = {
    name: 'mnist-lesson',
    model: structuredClone(LESSON_MNIST_MODEL),
    training: {
      optimizer: 'adam',
      learningRate: 0.001,
      epochs: 2,
      batchSize: 64,
      validationSplit: 0.1,
      testSplit: 0.1,
      seed: 42,
    },
    dataset: { id: 'mnist', limit: 2000 },
  };
  // "Train on it" from a dataset's page: its shape in, its classes out; flat examples get a small dense network.
  const preset = datasets.find((d) => d.id === ctx.route.query.get('dataset'));
  if (preset && preset.id !== body.dataset.id) {
    const model: ModelSpec =
      preset.inputShape.length === 1
        ? {
            input: { shape: [...preset.inputShape] },
            layers: [
              { type: 'dense', units: 32, activation: 'relu' },
              { type: 'dense', units: preset.numClasses, activation: 'softmax' },
            ],
          }
        : { input: { shape: [...preset.inputShape] }, layers: structuredClone(LESSON_MNIST_MODEL.layers) };
    const last = model.layers.at(-1);
    if (last?.type === 'dense') last.units = preset.numClasses;
    body = { ...body, name: `${preset.name}-job`, model, dataset: { id: preset.id } };
  }
  const from = ctx.route.query.get('from');
  let note: HTMLElement | null = null;
  if (from) {
    try {
      const job = await api.get<Job>(`/v1/jobs/${encodeURIComponent(from)}`, {
        signal,
      });
      if (job.spec) {
        body = {
          name: `${job.name ?? 'job'}-copy`,
          model: job.spec.model,
          training: { ...job.spec.training },
          dataset: { ...job.dataset },
        };
        note = h('p', { class: 'notice' }, 'Prefilled from ', h('a', { href: href(`/jobs/${job.id}`) }, job.name ?? job.id), '.');
      }
    } catch (err) {
      note = errorBlock(err);
    }
  }

  return { body, note };
}
