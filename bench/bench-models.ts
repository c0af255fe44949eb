import type { ModelSpec } from '../src/model-spec/index.js';
import { SEED_MNIST_MODEL, TINY_CNN_MODEL } from '../src/model-spec/index.js';

export interface BenchModel {
  name: string;
  spec: ModelSpec;
  /**
   * Whether stock cpu gets the default run. Its Conv2DBackpropFilter is a
   * scalar loop: the seed net takes ~3 minutes a batch there.
   */
  cpuByDefault: boolean;
}

/** A plain MLP on flattened 28x28 digits: dense-layer gradients only. */
const MLP_MODEL: ModelSpec = {
  input: { shape: [28, 28, 1] },
  layers: [
    { type: 'flatten' },
    { type: 'dense', units: 512, activation: 'relu' },
    { type: 'dense', units: 256, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

export const BENCH_MODELS: BenchModel[] = [
  { name: 'seed-mnist', spec: SEED_MNIST_MODEL, cpuByDefault: false },
  { name: 'tiny-cnn', spec: TINY_CNN_MODEL, cpuByDefault: true },
  { name: 'mlp', spec: MLP_MODEL, cpuByDefault: true },
];
