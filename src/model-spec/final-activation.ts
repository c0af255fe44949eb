import type { Activation } from './layer-spec.schema.js';
import type { ModelSpec } from './model-spec.schema.js';
import type { NormalizedModelSpec } from './model-spec.normalizer.js';

// Layers that pass values through without transforming them, so the
// activation that shapes the output is the one before them.
const PASS_THROUGH = new Set(['dropout', 'flatten']);

/**
 * The activation the model applies last, looking through layers that keep it
 * (dropout, flatten). 'softmax' means the outputs are probabilities; anything
 * else on a classifier means logits, as in the lesson's network. A model
 * ending in pooling, batch norm or inception reports 'linear'.
 */
export function finalActivation(model: ModelSpec | NormalizedModelSpec): Activation {
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i];
    if (PASS_THROUGH.has(layer.type)) continue;
    if (layer.type === 'activation') return layer.activation;
    if (layer.type === 'dense' || layer.type === 'conv2d') return layer.activation ?? 'linear';
    return 'linear';
  }
  return 'linear';
}
