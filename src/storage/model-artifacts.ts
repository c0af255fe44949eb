import * as tf from '@tensorflow/tfjs';
import type { ArtifactStore } from './artifact-store.js';

/**
 * The tfjs layers-model format on disk: `model.json` (topology + weights
 * manifest) and `weights.bin`, the same pair `model.save('file://...')`
 * writes, so artifacts load with stock `tf.loadLayersModel`.
 */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export function modelArtifactKey(modelId: string): string {
  return `models/${modelId}`;
}

export async function saveModelArtifact(store: ArtifactStore, key: string, model: tf.LayersModel): Promise<number> {
  let files: Record<string, Uint8Array | string> | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      const buffer = Array.isArray(weightData) ? tf.io.concatenateArrayBuffers(weightData) : (weightData ?? new ArrayBuffer(0));
      const modelJson = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      files = { [MODEL_JSON]: JSON.stringify(modelJson), [WEIGHTS_BIN]: new Uint8Array(buffer) };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!files) throw new Error('tfjs did not hand over the model artifacts');
  return store.put(key, files);
}

export async function loadModelArtifact(store: ArtifactStore, key: string): Promise<tf.LayersModel> {
  const [json, weights] = await Promise.all([store.get(key, MODEL_JSON), store.get(key, WEIGHTS_BIN)]);
  if (!json || !weights) throw new Error(`artifact ${key} is incomplete`);
  const parsed = JSON.parse(json.toString('utf8')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: parsed.modelTopology,
      weightSpecs: parsed.weightsManifest.flatMap((g) => g.weights),
      weightData,
    }),
  );
}

// The `preprocessing` column's schema lives with the other trained-model columns; re-exported for the importers of this module.
export { PreprocessingSchema, readPreprocessing, type Preprocessing } from './model.schema.js';
