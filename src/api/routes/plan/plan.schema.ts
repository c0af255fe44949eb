import { Type } from 'typebox';
import { INCEPTION_EXAMPLE_MODEL, LAYER_TYPES, SEED_MNIST_MODEL, type KerasModelEnvelope, type ModelSpec } from '../../../model-spec/index.js';
import { ModelInputSchema } from '../jobs/jobs.schema.js';

/** The body of POST /v1/jobs minus the training fields: `{ "model": ... }`. */
export const PlanRequestSchema = Type.Object({ model: ModelInputSchema }, { additionalProperties: false, description: 'The model wrapped as in POST /v1/jobs: `{"model": ...}`.' });

/**
 * The model itself, or wrapped in `{ "model": ... }` as POST /v1/jobs takes
 * it, so that a job body can be planned as it is. if/then/else for the same
 * reason as ModelInputSchema: a mistake is reported against one form only.
 */
export const PlanBodySchema = Type.Unsafe<ModelSpec | KerasModelEnvelope | { model: ModelSpec | KerasModelEnvelope }>({
  if: { type: 'object', required: ['model'] },
  then: PlanRequestSchema,
  else: ModelInputSchema,
  description: 'The model (compact spec or `{"keras": ...}`), bare or as `{"model": ...}` like the body of POST /v1/jobs.',
  // Swagger's "Try it out" starts from these: the lesson's MNIST network and a GoogLeNet-style inception module.
  examples: [SEED_MNIST_MODEL, INCEPTION_EXAMPLE_MODEL, { model: SEED_MNIST_MODEL }],
});

const ShapeSchema = Type.Array(Type.Integer(), { description: 'Without the batch dimension, e.g. [16, 16, 20].' });

const WindowAxisSchema = Type.Object(
  {
    input: Type.Integer({ description: 'Input length W along this axis.' }),
    window: Type.Integer({ description: 'Kernel or pool size F.' }),
    stride: Type.Integer({ description: 'Stride S.' }),
    padBefore: Type.Integer({ description: "Zeros added before (top or left); for 'same', those TensorFlow adds." }),
    padAfter: Type.Integer({ description: "Zeros added after (bottom or right); for 'same' the odd one goes here, as in TensorFlow." }),
    output: Type.Integer({ description: 'Output length along this axis.' }),
    formula: Type.String({
      description:
        "How the output length follows, numbers filled in: the lesson's `(W − F + 2P)/S + 1` (floored, `⌊…⌋`, when S does not divide), " +
        "e.g. `(32 − 8 + 2·0)/2 + 1 = 13`; for 'same', TensorFlow's `⌈W/S⌉`, e.g. `⌈28/2⌉ = 14`.",
    }),
  },
  { title: 'WindowAxisPlan' },
);

const WindowPlanSchema = Type.Object(
  {
    padding: Type.Enum(['same', 'valid', 'explicit'], { description: "TensorFlow's 'same' or 'valid', or zeros given as numbers." }),
    rows: WindowAxisSchema,
    cols: WindowAxisSchema,
  },
  { title: 'WindowPlan', description: 'conv2d, maxPool2d and avgPool2d: the sliding window along the height (rows) and width (cols) axes.' },
);

const layerPlanProperties = {
  index: Type.Integer({ description: '0-based position in `layers` (or in its inception branch).' }),
  name: Type.String(),
  type: Type.Enum([...LAYER_TYPES]),
  inputShape: ShapeSchema,
  outputShape: ShapeSchema,
  params: Type.Integer({ description: 'Parameters (weights and biases) of this layer.' }),
  trainableParams: Type.Integer(),
  nonTrainableParams: Type.Integer({ description: 'e.g. batch-norm moving mean and variance.' }),
  macs: Type.Integer({ description: 'Multiply-accumulates per example; only convolutions and dense layers count.' }),
  window: Type.Optional(WindowPlanSchema),
  paramsWithoutSharing: Type.Optional(
    Type.Integer({
      description:
        'conv2d only: parameters the layer would need if every output position had its own weights, ' +
        '(F_h × F_w × C_in + 1) × (H_out × W_out × K). The lesson contrasts this with parameter sharing.',
    }),
  ),
};

const BranchLayerPlanSchema = Type.Object(layerPlanProperties);

export const LayerPlanSchema = Type.Object({
  ...layerPlanProperties,
  branches: Type.Optional(Type.Array(Type.Array(BranchLayerPlanSchema), { description: 'inception only: the plan of each branch.' })),
});

export const ModelPlanSchema = Type.Object(
  {
    version: Type.Literal(1),
    inputShape: ShapeSchema,
    outputShape: ShapeSchema,
    layers: Type.Array(LayerPlanSchema),
    totalParams: Type.Integer(),
    trainableParams: Type.Integer(),
    nonTrainableParams: Type.Integer(),
    macs: Type.Integer({ description: 'Multiply-accumulates per example, forward pass.' }),
    weightBytes: Type.Integer({ description: 'Size of the weights as float32.' }),
    limits: Type.Object({
      maxParams: Type.Integer(),
      maxMacs: Type.Integer(),
      exceeded: Type.Array(Type.String(), { description: 'Why POST /v1/jobs would refuse this model; empty when it fits.' }),
    }),
  },
  { title: 'ModelPlan' },
);
