import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { TestApp } from './app.js';
import { storedJobFields } from './job-row.js';
import { createJob, markRunning } from '../../src/storage/jobs.repository.js';
import { completeJobWithModel } from '../../src/storage/models.repository.js';
import { artifactStoreFor } from '../../src/storage/artifact-store.js';
import { modelArtifactKey, saveModelArtifact, type Preprocessing } from '../../src/storage/model-artifacts.js';
import { buildModel } from '../../src/model-spec/index.js';
import { selectEngine } from '../../src/engine/select-engine.js';

export const MLP = {
  input: { shape: [28, 28, 1] },
  layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }],
};

/** Preprocessing of a model trained on the built-in MNIST digits (values in 0..1, images 28x28x1). */
export const MNIST_PREPROCESSING: Preprocessing = {
  inputShape: [28, 28, 1],
  valueRange: [0, 1],
  outputs: 'probabilities',
  image: { width: 28, height: 28, channels: 1, valueScale: 1 / 255 },
};

/**
 * A servable model without training: the spec built with seeded weights,
 * its artifact written where the app's compute threads read, and its job and
 * model rows made through the storage repositories. Returns the model id and
 * the tfjs model itself, to compare the service's answers with.
 */
export async function storeModel(
  t: TestApp,
  options: { spec?: object; seed?: number; preprocessing?: Preprocessing; classNames?: string[]; tenant?: string } = {},
): Promise<{ id: string; model: tf.LayersModel }> {
  await selectEngine(t.config.ENGINE);
  const spec = options.spec ?? MLP;
  const preprocessing = options.preprocessing ?? MNIST_PREPROCESSING;
  const tenantId = options.tenant ?? t.tenant;
  const { db } = t.app.services;
  const model = buildModel(spec as never, { seed: options.seed ?? 1 });
  const id = randomUUID();
  const sizeBytes = await saveModelArtifact(artifactStoreFor(t.config), modelArtifactKey(id), model);
  const job = await createJob(db, {
    tenantId,
    name: 'stored-in-test',
    ...storedJobFields(spec, { epochs: 1 }),
    queueName: 'not-queued',
  });
  await markRunning(db, job.id, { engine: { name: 'wasm', version: tf.version.tfjs }, maxRunning: async () => 1000 });
  const classNames = options.classNames ?? Array.from({ length: 10 }, (_, i) => String(i));
  await completeJobWithModel(
    db,
    {
      id,
      tenantId,
      jobId: job.id,
      name: null,
      inputShape: preprocessing.inputShape,
      numClasses: classNames.length,
      classNames,
      spec,
      metrics: { epochs: 1, loss: null, accuracy: null, valLoss: null, valAccuracy: null, testLoss: null, testAccuracy: null },
      preprocessing: preprocessing as object,
      artifactKey: modelArtifactKey(id),
      sizeBytes,
      engine: { name: 'wasm', version: tf.version.tfjs },
    },
    { testLoss: null, testAccuracy: null },
  );
  return { id, model };
}

/** What the model itself answers for these flat inputs (already normalised). */
export function localPredict(model: tf.LayersModel, inputs: number[][], inputShape: number[]): number[][] {
  return tf.tidy(() => (model.predict(tf.tensor(inputs.flat(), [inputs.length, ...inputShape])) as tf.Tensor).arraySync() as number[][]);
}
