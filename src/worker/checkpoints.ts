import * as tf from '@tensorflow/tfjs';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { loadModelArtifact, saveModelArtifact } from '../storage/model-artifacts.js';

/**
 * End-of-epoch checkpoints: the model (topology + weights), the
 * optimizer's state (Adam moments, momentum accumulators, iteration count)
 * and the learning-rate schedule's (reduceOnPlateau's rate and counters), so
 * that a retried job continues the same optimisation instead of restarting it. Each epoch is a key of its own; the database names the one
 * that counts, so a crash between writing files and committing never mixes
 * two epochs.
 */
const OPTIMIZER_JSON = 'optimizer.json';
const OPTIMIZER_BIN = 'optimizer.bin';
const SCHEDULE_JSON = 'schedule.json';

export function checkpointsKey(jobId: string): string {
  return `checkpoints/${jobId}`;
}

function epochKey(jobId: string, epoch: number): string {
  return `${checkpointsKey(jobId)}/epoch-${epoch}`;
}

/** `scheduleState`: what the learning-rate schedule needs to go on after this epoch (JSON); null when it needs nothing. */
export async function saveCheckpoint(
  store: ArtifactStore,
  jobId: string,
  epoch: number,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  scheduleState: object | null = null,
): Promise<void> {
  const modelKey = `${epochKey(jobId, epoch)}/model`;
  await saveModelArtifact(store, modelKey, model);
  const named = await optimizer.getWeights();
  let encoded: Awaited<ReturnType<typeof tf.io.encodeWeights>>;
  try {
    encoded = await tf.io.encodeWeights(named);
  } finally {
    // getWeights() returns the optimizer's own variables, and a new scalar of its iteration count that is ours to free.
    tf.dispose(named.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
  }
  const { data, specs } = encoded;
  const buffer = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  const files: Record<string, Uint8Array | string> = { [OPTIMIZER_JSON]: JSON.stringify(specs), [OPTIMIZER_BIN]: new Uint8Array(buffer) };
  if (scheduleState !== null) files[SCHEDULE_JSON] = JSON.stringify(scheduleState);
  await store.put(`${epochKey(jobId, epoch)}/optimizer`, files);
}

export async function loadCheckpoint(
  store: ArtifactStore,
  jobId: string,
  epoch: number,
): Promise<{ model: tf.LayersModel; optimizerWeights: { name: string; tensor: tf.Tensor }[]; scheduleState: unknown }> {
  const model = await loadModelArtifact(store, `${epochKey(jobId, epoch)}/model`);
  const key = `${epochKey(jobId, epoch)}/optimizer`;
  const [specsJson, bin, schedule] = await Promise.all([store.get(key, OPTIMIZER_JSON), store.get(key, OPTIMIZER_BIN), store.get(key, SCHEDULE_JSON)]);
  if (!specsJson || !bin) throw new Error(`checkpoint of epoch ${epoch} has no optimizer state`);
  const specs = JSON.parse(specsJson.toString('utf8')) as tf.io.WeightsManifestEntry[];
  const map = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer, specs);
  // Checked by the scheduler that reads it (null: none saved).
  const scheduleState: unknown = schedule ? JSON.parse(schedule.toString('utf8')) : null;
  return { model, optimizerWeights: specs.map((s) => ({ name: s.name, tensor: map[s.name] })), scheduleState };
}

/** Drops checkpoints older than `keepEpoch` (all of them without it). */
export async function pruneCheckpoints(store: ArtifactStore, jobId: string, keepEpoch?: number): Promise<void> {
  if (keepEpoch === undefined) return store.remove(checkpointsKey(jobId));
  for (let epoch = keepEpoch - 1; epoch >= Math.max(1, keepEpoch - 2); epoch--) await store.remove(epochKey(jobId, epoch));
}
