import type { LayerType } from './layer-spec.schema.js';
import type { ModelSpec } from './model-spec.schema.js';
import { normalizeModelSpec, type NormalizedBranchLayer, type NormalizedLayer, type NormalizedModelSpec, type Pair } from './model-spec.normalizer.js';
import { layerError, type LayerRef } from './spec-error.js';
import { DEFAULT_PLAN_LIMITS, type PlanLimits } from './plan-limits.js';
import { axisPaddings, formatCount, formatPadding, formatShape, windowAxisPlan, windowOutputLength, type WindowAxisPlan } from './window-math.js';

/** A shape without the batch dimension: `[height, width, channels]` or `[features]`. */
export type Shape = number[];

export { DEFAULT_PLAN_LIMITS, type PlanLimits } from './plan-limits.js';

export interface LayerPlan {
  /** 0-based position in `layers`, or in its inception branch. */
  index: number;
  name: string;
  type: LayerType;
  inputShape: Shape;
  outputShape: Shape;
  params: number;
  trainableParams: number;
  nonTrainableParams: number;
  /**
   * Multiply-accumulates per example. Only convolutions and dense layers are
   * counted; pooling, activations, batch norm and dropout do O(1) work per
   * value and are reported as 0 so the figure stays comparable to papers.
   */
  macs: number;
  /**
   * conv2d only: the parameters the layer would need if every output position
   * had its own weights, (F_h * F_w * C_in + bias) * (H_out * W_out * K) — the
   * lesson's argument for parameter sharing.
   */
  paramsWithoutSharing?: number;
  /**
   * Convolutions and pooling: the window along each axis, with the formula
   * that gives the output size and its numbers filled in.
   */
  window?: WindowPlan;
  /** inception only: the plan of each branch, applied to the module's input. */
  branches?: LayerPlan[][];
}

export interface WindowPlan {
  /** 'same' and 'valid' as TensorFlow pads; 'explicit' for zeros given as numbers. */
  padding: 'same' | 'valid' | 'explicit';
  rows: WindowAxisPlan;
  cols: WindowAxisPlan;
}

export interface ModelPlan {
  version: 1;
  inputShape: Shape;
  outputShape: Shape;
  layers: LayerPlan[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  macs: number;
  /** Size of the weights as float32, the format tfjs trains and saves. */
  weightBytes: number;
  limits: {
    maxParams: number;
    maxMacs: number;
    /** Human-readable reasons; empty when the model is within both limits. */
    exceeded: string[];
  };
}

type Counts = Pick<LayerPlan, 'params' | 'trainableParams' | 'nonTrainableParams' | 'macs'>;

const NO_WEIGHTS: Counts = { params: 0, trainableParams: 0, nonTrainableParams: 0, macs: 0 };

function requireImage(input: Shape, ref: LayerRef, name: string, hint = ''): [number, number, number] {
  if (input.length !== 3) {
    throw layerError({ ...ref, name }, `expects a [height, width, channels] input, got ${formatShape(input)}${hint}`);
  }
  return [input[0], input[1], input[2]];
}

function requireFlat(input: Shape, ref: LayerRef, name: string): number {
  if (input.length !== 1) {
    throw layerError({ ...ref, name }, `expects a flat input, got ${formatShape(input)}; add a flatten layer before it`);
  }
  return input[0];
}

function windowPlan(input: readonly number[], window: Pair, strides: Pair, padding: 'same' | 'valid' | [number, number, number, number]): WindowPlan {
  const [padRows, padCols] = axisPaddings(padding);
  return {
    padding: typeof padding === 'string' ? padding : 'explicit',
    rows: windowAxisPlan(input[0], window[0], strides[0], padRows),
    cols: windowAxisPlan(input[1], window[1], strides[1], padCols),
  };
}

/** Shared by convolutions and pools: output height and width, or a "does not fit" error. */
function slideWindow(
  input: [number, number, number],
  window: Pair,
  strides: Pair,
  padding: 'same' | 'valid' | [number, number, number, number],
  what: 'kernel' | 'pool',
  ref: LayerRef,
  name: string,
): Pair {
  const [padRows, padCols] = axisPaddings(padding);
  const outH = windowOutputLength(input[0], window[0], strides[0], padRows);
  const outW = windowOutputLength(input[1], window[1], strides[1], padCols);
  if (outH < 1 || outW < 1) {
    const field = what === 'kernel' ? 'kernelSize' : 'poolSize';
    throw layerError({ ...ref, name }, `${what} ${window[0]}x${window[1]} with padding ${formatPadding(padding)} does not fit a ${input[0]}x${input[1]} input`, field);
  }
  return [outH, outW];
}

function planOne(layer: NormalizedLayer, input: Shape, ref: LayerRef, userNames: ReadonlySet<string>): LayerPlan {
  const { name, type } = layer;
  const base = { index: ref.index, name, type, inputShape: input };
  switch (layer.type) {
    case 'conv2d': {
      const [h, w, c] = requireImage(input, ref, name);
      const [outH, outW] = slideWindow([h, w, c], layer.kernelSize, layer.strides, layer.padding, 'kernel', ref, name);
      const k = layer.filters;
      const [fh, fw] = layer.kernelSize;
      const bias = layer.useBias ? 1 : 0;
      const params = (fh * fw * c + bias) * k;
      return {
        ...base,
        outputShape: [outH, outW, k],
        params,
        trainableParams: params,
        nonTrainableParams: 0,
        macs: outH * outW * k * fh * fw * c,
        paramsWithoutSharing: (fh * fw * c + bias) * (outH * outW * k),
        window: windowPlan(input, layer.kernelSize, layer.strides, layer.padding),
      };
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const [h, w, c] = requireImage(input, ref, name);
      const [outH, outW] = slideWindow([h, w, c], layer.poolSize, layer.strides, layer.padding, 'pool', ref, name);
      return { ...base, outputShape: [outH, outW, c], ...NO_WEIGHTS, window: windowPlan(input, layer.poolSize, layer.strides, layer.padding) };
    }
    case 'globalAvgPool2d': {
      const [, , c] = requireImage(input, ref, name);
      return { ...base, outputShape: [c], ...NO_WEIGHTS };
    }
    case 'flatten': {
      const [h, w, c] = requireImage(input, ref, name, input.length === 1 ? '; the input is already flat, remove this layer' : '');
      return { ...base, outputShape: [h * w * c], ...NO_WEIGHTS };
    }
    case 'dense': {
      const n = requireFlat(input, ref, name);
      const params = n * layer.units + (layer.useBias ? layer.units : 0);
      return {
        ...base,
        outputShape: [layer.units],
        params,
        trainableParams: params,
        nonTrainableParams: 0,
        macs: n * layer.units,
      };
    }
    case 'dropout':
    case 'activation':
      return { ...base, outputShape: [...input], ...NO_WEIGHTS };
    case 'batchNorm': {
      // gamma and beta are learned; the moving mean and variance are only updated.
      const c = input[input.length - 1];
      return { ...base, outputShape: [...input], params: 4 * c, trainableParams: 2 * c, nonTrainableParams: 2 * c, macs: 0 };
    }
    case 'inception':
      return planInception(layer.branches, input, ref, name, base, userNames);
  }
}

function planInception(
  branches: NormalizedBranchLayer[][],
  input: Shape,
  ref: LayerRef,
  name: string,
  base: Pick<LayerPlan, 'index' | 'name' | 'type' | 'inputShape'>,
  userNames: ReadonlySet<string>,
): LayerPlan {
  requireImage(input, ref, name);
  const parentRef = { index: ref.index, type: ref.type, userName: ref.userName, name };
  const branchPlans = branches.map(
    (branch, b) =>
      planSequence(branch, input, userNames, (index, layer) => ({
        index,
        type: layer.type,
        userName: userNames.has(layer.name) ? layer.name : undefined,
        parent: { ...parentRef, branch: b },
      })).plans,
  );
  const outputs = branchPlans.map((plans) => plans[plans.length - 1].outputShape);
  const [h0, w0] = outputs[0];
  const mismatch = outputs.findIndex(([h, w]) => h !== h0 || w !== w0);
  if (mismatch !== -1) {
    const [h, w] = outputs[mismatch];
    throw layerError({ ...ref, name }, `branch 0 outputs ${h0}x${w0} but branch ${mismatch} outputs ${h}x${w}; branches must agree in height and width`, 'branches');
  }
  const totals = sumCounts(branchPlans.flat());
  return {
    ...base,
    outputShape: [h0, w0, outputs.reduce((sum, shape) => sum + shape[2], 0)],
    ...totals,
    branches: branchPlans,
  };
}

function sumCounts(plans: LayerPlan[]): Counts {
  return plans.reduce<Counts>(
    (acc, p) => ({
      params: acc.params + p.params,
      trainableParams: acc.trainableParams + p.trainableParams,
      nonTrainableParams: acc.nonTrainableParams + p.nonTrainableParams,
      macs: acc.macs + p.macs,
    }),
    { ...NO_WEIGHTS },
  );
}

function planSequence<L extends NormalizedLayer>(
  layers: L[],
  input: Shape,
  userNames: ReadonlySet<string>,
  refOf: (index: number, layer: L) => LayerRef,
): { plans: LayerPlan[]; output: Shape } {
  const plans: LayerPlan[] = [];
  let shape = input;
  layers.forEach((layer, index) => {
    const plan = planOne(layer, shape, refOf(index, layer), userNames);
    plans.push(plan);
    shape = plan.outputShape;
  });
  return { plans, output: shape };
}

/**
 * Computes every layer's output shape, parameter count and cost without
 * building anything, by TensorFlow's shape rules. Accepts a typed spec, a
 * normalized one, or raw JSON from storage (it is validated first).
 * Throws SpecError when the network cannot be built. A model over the limits
 * is still planned; `limits.exceeded` says why it should not be trained.
 */
export function planModel(spec: ModelSpec | NormalizedModelSpec, limits: PlanLimits = {}): ModelPlan {
  const normalized = normalizeModelSpec(spec);
  // Generated names are reported only on the error object, not in the
  // message: the user never wrote them.
  const userNames = collectUserNames(spec);
  const { plans, output } = planSequence(normalized.layers, [...normalized.input.shape], userNames, (index, layer) => ({
    index,
    type: layer.type,
    userName: userNames.has(layer.name) ? layer.name : undefined,
  }));
  const totals = sumCounts(plans);
  const maxParams = limits.maxParams ?? DEFAULT_PLAN_LIMITS.maxParams;
  const maxMacs = limits.maxMacs ?? DEFAULT_PLAN_LIMITS.maxMacs;
  const exceeded: string[] = [];
  if (totals.params > maxParams) {
    exceeded.push(`${formatCount(totals.params)} parameters exceed the limit of ${formatCount(maxParams)}`);
  }
  if (totals.macs > maxMacs) {
    exceeded.push(`${formatCount(totals.macs)} multiply-accumulates per example exceed the limit of ${formatCount(maxMacs)}`);
  }
  return {
    version: 1,
    inputShape: [...normalized.input.shape],
    outputShape: output,
    layers: plans,
    totalParams: totals.params,
    trainableParams: totals.trainableParams,
    nonTrainableParams: totals.nonTrainableParams,
    macs: totals.macs,
    weightBytes: totals.params * 4,
    limits: { maxParams, maxMacs, exceeded },
  };
}

function collectUserNames(spec: unknown): Set<string> {
  const names = new Set<string>();
  const visit = (layer: unknown): void => {
    if (layer === null || typeof layer !== 'object') return;
    const { name, branches } = layer as { name?: unknown; branches?: unknown };
    if (typeof name === 'string') names.add(name);
    if (Array.isArray(branches)) branches.forEach((b) => Array.isArray(b) && b.forEach(visit));
  };
  const layers = (spec as { layers?: unknown }).layers;
  if (Array.isArray(layers)) layers.forEach(visit);
  return names;
}
