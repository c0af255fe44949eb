// The model-spec compiler: schemas, normalization, planning and model
// building. Pure: nothing here does I/O.
export * from './spec-error.js';
export * from './layer-spec.schema.js';
export * from './model-spec.schema.js';
export * from './training-spec.schema.js';
export * from './learning-rate-schedule.schema.js';
export * from './augmentation.schema.js';
export {
  normalizeModelSpec,
  NAME_PREFIXES,
  type ExplicitPadding,
  type NormalizedActivationLayer,
  type NormalizedAvgPool2dLayer,
  type NormalizedBatchNormLayer,
  type NormalizedBranchLayer,
  type NormalizedConv2dLayer,
  type NormalizedDenseLayer,
  type NormalizedDropoutLayer,
  type NormalizedFlattenLayer,
  type NormalizedGlobalAvgPool2dLayer,
  type NormalizedInceptionLayer,
  type NormalizedLayer,
  type NormalizedMaxPool2dLayer,
  type NormalizedModelSpec,
  type Pair,
} from './model-spec.normalizer.js';
export { defaultLossFor, normalizeTrainingSpec } from './training-spec.normalizer.js';
export { finalActivation } from './final-activation.js';
export { planModel, DEFAULT_PLAN_LIMITS, type LayerPlan, type ModelPlan, type PlanLimits, type Shape, type WindowPlan } from './planner.js';
export { formatCount, windowAxisPlan, windowOutputLength, type AxisPadding, type WindowAxisPlan } from './window-math.js';
export { buildModel, type BuildModelOptions } from './build-model.js';
export { buildOptimizer, type OptimizerSettings, type TfTrainApi } from './optimizer.js';
export { KerasModelEnvelopeSchema, importKerasModel, isKerasEnvelope, resolveModelSpec, type KerasModelEnvelope } from './keras-import.js';
export { SUPPORTED_KERAS_LAYERS, kerasInitializer } from './keras-layers.js';
export { SEED_MNIST_MODEL, INCEPTION_EXAMPLE_MODEL, TINY_CNN_MODEL } from './examples.js';
