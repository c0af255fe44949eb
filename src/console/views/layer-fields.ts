import type { LayerSpec } from '../lib/types.js';

/** What the layer form offers per layer type: its fields and the layer a new one starts as. Data only. */

export const LAYER_TYPES = ['conv2d', 'maxPool2d', 'avgPool2d', 'globalAvgPool2d', 'flatten', 'dense', 'dropout', 'activation', 'batchNorm', 'inception'] as const;
export const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'softplus', 'softsign', 'swish', 'mish', 'gelu'];

export type Kind = 'int' | 'number' | 'window' | 'activation' | 'pool-padding' | 'conv-padding' | 'text' | 'json';
export interface FieldDef {
  key: string;
  label: string;
  kind: Kind;
  /** Optional fields are left out of the spec when empty (the API's default applies). */
  optional?: boolean;
  hint?: string;
}

const NAME: FieldDef = {
  key: 'name',
  label: 'Name',
  kind: 'text',
  optional: true,
  hint: 'optional',
};
/** Hints shown as placeholders: the label stays, the hint is the default the API applies. */
export const FIELDS: Record<string, FieldDef[]> = {
  conv2d: [
    { key: 'filters', label: 'Filters (K)', kind: 'int' },
    {
      key: 'kernelSize',
      label: 'Kernel (F)',
      kind: 'window',
      hint: 'n, or h, w',
    },
    {
      key: 'strides',
      label: 'Stride (S)',
      kind: 'window',
      optional: true,
      hint: 'default 1',
    },
    {
      key: 'padding',
      label: 'Padding (P)',
      kind: 'conv-padding',
      optional: true,
    },
    {
      key: 'activation',
      label: 'Activation',
      kind: 'activation',
      optional: true,
    },
    NAME,
  ],
  maxPool2d: [
    {
      key: 'poolSize',
      label: 'Pool (F)',
      kind: 'window',
      optional: true,
      hint: 'default 2',
    },
    {
      key: 'strides',
      label: 'Stride (S)',
      kind: 'window',
      optional: true,
      hint: 'default: the pool',
    },
    { key: 'padding', label: 'Padding', kind: 'pool-padding', optional: true },
    NAME,
  ],
  avgPool2d: [],
  globalAvgPool2d: [NAME],
  flatten: [NAME],
  dense: [
    { key: 'units', label: 'Units', kind: 'int' },
    {
      key: 'activation',
      label: 'Activation',
      kind: 'activation',
      optional: true,
    },
    NAME,
  ],
  dropout: [{ key: 'rate', label: 'Rate', kind: 'number', hint: 'in [0, 1)' }, NAME],
  activation: [{ key: 'activation', label: 'Activation', kind: 'activation' }, NAME],
  batchNorm: [
    {
      key: 'momentum',
      label: 'Momentum',
      kind: 'number',
      optional: true,
      hint: 'default 0.99',
    },
    {
      key: 'epsilon',
      label: 'Epsilon',
      kind: 'number',
      optional: true,
      hint: 'default 0.001',
    },
    NAME,
  ],
  inception: [
    {
      key: 'branches',
      label: 'Branches (JSON: a list of layer lists)',
      kind: 'json',
    },
    NAME,
  ],
};
FIELDS.avgPool2d = FIELDS.maxPool2d;

export const LAYER_DEFAULTS: Record<string, LayerSpec> = {
  conv2d: {
    type: 'conv2d',
    filters: 16,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
  },
  maxPool2d: { type: 'maxPool2d', poolSize: 2 },
  avgPool2d: { type: 'avgPool2d', poolSize: 2 },
  globalAvgPool2d: { type: 'globalAvgPool2d' },
  flatten: { type: 'flatten' },
  dense: { type: 'dense', units: 64, activation: 'relu' },
  dropout: { type: 'dropout', rate: 0.25 },
  activation: { type: 'activation', activation: 'relu' },
  batchNorm: { type: 'batchNorm' },
  inception: {
    type: 'inception',
    branches: [
      [{ type: 'conv2d', filters: 8, kernelSize: 1, activation: 'relu' }],
      [
        { type: 'conv2d', filters: 8, kernelSize: 1, activation: 'relu' },
        {
          type: 'conv2d',
          filters: 8,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
        },
      ],
    ],
  },
};
