import { describe, expect, it } from 'vitest';
import { INCEPTION_EXAMPLE_MODEL, planModel, SEED_MNIST_MODEL, SpecError, TINY_CNN_MODEL, TRAINING_DEFAULTS, type ModelSpec } from '../../src/model-spec/index.js';
import { isCurrentJobDocument, JOB_DOCUMENT_VERSION, jobDocumentToTrain, type JobDocument } from '../../src/queue/job-document.js';
import { readJobDocument, readJobPlan } from '../../src/storage/job.schema.js';
import { StoredJsonError } from '../../src/storage/stored-json.js';

/** A model whose last layer is linear: its loss stays unset (logits), as the normaliser leaves it. */
const LOGITS_MODEL: ModelSpec = { input: { shape: [784] }, layers: [{ type: 'dense', units: 10 }] };
const dataset = { id: 'mnist', limit: 300 };

const current: JobDocument = {
  version: JOB_DOCUMENT_VERSION,
  model: SEED_MNIST_MODEL,
  training: { ...TRAINING_DEFAULTS, epochs: 2, loss: 'categoricalCrossentropy', earlyStopping: { monitor: 'loss', patience: 1, minDelta: 0 } },
  dataset,
};

describe('readJobDocument', () => {
  it('reads a current document (stored as JSON) and hands it to the worker as it is', () => {
    const stored = JSON.parse(JSON.stringify(current));
    const doc = readJobDocument(stored, 'j1');
    expect(isCurrentJobDocument(doc)).toBe(true);
    expect(jobDocumentToTrain(doc)).toBe(doc);
  });

  it('reads a schedule and augmentation as the normaliser stored them', () => {
    const training = {
      ...current.training,
      learningRateSchedule: { type: 'reduceOnPlateau', monitor: 'val_loss', factor: 0.5, patience: 1, minDelta: 0, cooldown: 1, minLearningRate: 0.00001 },
      augmentation: { shift: 0.1, rotation: 10, zoom: 0.1, flipHorizontal: false },
    } as const;
    const doc = readJobDocument(JSON.parse(JSON.stringify({ ...current, training })), 'j1');
    expect(doc.training).toEqual(training);
  });

  it('reads a document written before training was stored normalised (no version, training as submitted or absent)', () => {
    for (const legacy of [
      { model: SEED_MNIST_MODEL, training: { epochs: 1 }, dataset },
      { model: SEED_MNIST_MODEL, dataset },
    ]) {
      const doc = readJobDocument(JSON.parse(JSON.stringify(legacy)), 'j1');
      expect(isCurrentJobDocument(doc)).toBe(false);
      expect(doc).toEqual(legacy);
    }
  });

  it.each<[string, unknown, RegExp]>([
    ['training without a default filled in', { ...current, training: { epochs: 2 } }, /^stored spec of job j1 does not match its schema: training\.\w+ is required/],
    ['an unknown document version', { ...current, version: 3 }, /^stored spec of job j1 does not match its schema: version must be 2, got 3$/],
    [
      'an unknown training field',
      { ...current, training: { ...current.training, lr: 0.1 } },
      /^stored spec of job j1 does not match its schema: training\.lr is not an allowed field/,
    ],
    ['early stopping without its defaults', { ...current, training: { ...current.training, earlyStopping: { monitor: 'loss' } } }, /training\.earlyStopping\.\w+ is required/],
    [
      'a schedule without its defaults',
      { ...current, training: { ...current.training, learningRateSchedule: { type: 'cosine' } } },
      /training\.learningRateSchedule must be one of the schedules \(step, exponential, cosine, reduceOnPlateau\) with every field filled in, got \{"type":"cosine"\}$/,
    ],
    ['augmentation without its defaults', { ...current, training: { ...current.training, augmentation: { shift: 0.1 } } }, /training\.augmentation\.\w+ is required/],
    [
      'a legacy document with a mistyped training field',
      { model: SEED_MNIST_MODEL, training: { epochs: 'two' }, dataset },
      /training\.epochs must be an integer from 1 to 1000, got "two"/,
    ],
    ['a model that is not a spec', { ...current, model: { layers: [] } }, /: model\.input is required/],
    ['not an object', 'spec', /^stored spec of job j1 does not match its schema/],
  ])('refuses %s, naming the field', (_what, value, message) => {
    expect(() => readJobDocument(value, 'j1')).toThrow(StoredJsonError);
    expect(() => readJobDocument(value, 'j1')).toThrow(message);
  });
});

describe('jobDocumentToTrain on a legacy document', () => {
  it('fills in every default, as the worker did for such rows', () => {
    const doc = jobDocumentToTrain({ model: LOGITS_MODEL, training: { epochs: 1, earlyStopping: {} }, dataset });
    expect(doc).toEqual({
      version: JOB_DOCUMENT_VERSION,
      model: LOGITS_MODEL,
      training: { ...TRAINING_DEFAULTS, epochs: 1, earlyStopping: { monitor: 'val_loss', patience: 2, minDelta: 0 } },
      dataset,
    });
    expect(jobDocumentToTrain({ model: LOGITS_MODEL, dataset }).training).toEqual(TRAINING_DEFAULTS);
  });

  it("adds the loss the model implies even when the submission set every other field (so it passes the normalised schema's fields)", () => {
    const everyField = { ...TRAINING_DEFAULTS, epochs: 3 };
    expect(jobDocumentToTrain({ model: SEED_MNIST_MODEL, training: everyField, dataset }).training).toEqual({ ...everyField, loss: 'categoricalCrossentropy' });
  });

  it("throws SpecError when the old training breaks today's rules (held-out splits of 0.9 or more)", () => {
    expect(() => jobDocumentToTrain({ model: SEED_MNIST_MODEL, training: { validationSplit: 0.5, testSplit: 0.45 }, dataset })).toThrow(SpecError);
  });
});

describe('readJobPlan', () => {
  it.each([SEED_MNIST_MODEL, INCEPTION_EXAMPLE_MODEL, TINY_CNN_MODEL])('reads back the plan the API stored, branches included', (model) => {
    const plan = planModel(model);
    expect(readJobPlan(JSON.parse(JSON.stringify(plan)), 'j1')).toEqual(plan);
  });

  it('refuses a plan without its layers', () => {
    const { layers: _layers, ...summary } = planModel(SEED_MNIST_MODEL);
    expect(() => readJobPlan(summary, 'j1')).toThrow(/^stored plan of job j1 does not match its schema: layers is required/);
  });
});
