import { Type, type Static, type TSchema } from 'typebox';
import { expects } from './schema-errors.js';

/**
 * Activations accepted by tfjs-layers 4.22 under these exact identifiers
 * (checked against `ActivationIdentifier`; `gelu_new` is left out because
 * its snake_case name would be the only one in the API).
 */
export const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'softplus', 'softsign', 'swish', 'mish', 'gelu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * Weight initializers that need no arguments besides a seed. Initializers
 * with required parameters (constant, identity, varianceScaling) would need a
 * config object and are not offered.
 */
export const INITIALIZERS = [
  'glorotUniform',
  'glorotNormal',
  'heUniform',
  'heNormal',
  'leCunUniform',
  'leCunNormal',
  'randomUniform',
  'randomNormal',
  'truncatedNormal',
  'zeros',
  'ones',
] as const;
export type Initializer = (typeof INITIALIZERS)[number];

/** Defaults filled in by the normalizer and advertised by the schemas' `default`. */
export const LAYER_DEFAULTS = {
  strides: 1,
  convPadding: 'valid',
  poolPadding: 'valid',
  poolSize: 2,
  activation: 'linear',
  useBias: true,
  kernelInitializer: 'glorotUniform',
  biasInitializer: 'zeros',
  momentum: 0.99,
  epsilon: 0.001,
} as const satisfies Record<string, unknown>;

/** Upper bound for kernel, pool, stride and padding sizes; larger is never useful. */
export const MAX_WINDOW = 4096;
export const MAX_FILTERS = 4096;
export const MAX_UNITS = 65536;
export const MIN_BRANCHES = 2;
export const MAX_BRANCHES = 8;
export const MAX_BRANCH_LAYERS = 10;
/** Layer names become tfjs weight-name prefixes, so they follow tfjs's tensor-name rule minus `/`. */
export const LAYER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

const windowSide = () => Type.Integer({ minimum: 1, maximum: MAX_WINDOW });

/** An integer `n` (meaning `[n, n]`) or `[height, width]`. */
function windowSize(description: string, defaultValue?: number) {
  return Type.Union([windowSide(), Type.Tuple([windowSide(), windowSide()])], {
    description,
    ...expects(`an integer from 1 to ${MAX_WINDOW} or [height, width]`),
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });
}

function layerName() {
  return Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: LAYER_NAME_PATTERN,
      ...expects("1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
      description: 'Unique layer name (letters, digits, `.`, `_`, `-`). Default: the type in snake_case plus a per-type ' + 'counter, e.g. `conv2d_1`, `max_pool2d_2`.',
    }),
  );
}

function activation(description: string, defaultValue?: Activation) {
  return Type.Enum(ACTIVATIONS, { description, ...(defaultValue === undefined ? {} : { default: defaultValue }) });
}

function initializer(defaultValue: Initializer, what: string) {
  return Type.Optional(
    Type.Enum(INITIALIZERS, {
      default: defaultValue,
      description:
        `Initializer for the ${what}. Default \`${defaultValue}\`. Seeded from the training seed, so the same ` +
        'seed gives the same initial weights. randomUniform/randomNormal/truncatedNormal use the tfjs defaults (scale 0.05).',
    }),
  );
}

function layerType<T extends string>(type: T) {
  return Type.Literal(type, { description: `Layer type, always \`${type}\`.` });
}

export const Conv2dLayerSchema = Type.Object(
  {
    type: layerType('conv2d'),
    filters: Type.Integer({
      minimum: 1,
      maximum: MAX_FILTERS,
      description: 'Number of filters K, the output depth ("filter depth" in the lesson).',
    }),
    kernelSize: windowSize('Filter size F: `n` for n x n or `[height, width]`. A 1x1 convolution is `kernelSize: 1`.'),
    strides: Type.Optional(windowSize(`Stride S: \`n\` or \`[height, width]\`. Default ${LAYER_DEFAULTS.strides}.`, LAYER_DEFAULTS.strides)),
    padding: Type.Optional(
      Type.Union(
        [
          Type.Enum(['same', 'valid'] as const, {
            description: "TensorFlow padding: 'same' gives ceil(in / S), 'valid' gives ceil((in - F + 1) / S).",
          }),
          Type.Integer({ minimum: 0, maximum: MAX_WINDOW, description: 'Zero padding P on every side.' }),
          Type.Tuple(
            [
              Type.Integer({ minimum: 0, maximum: MAX_WINDOW }),
              Type.Integer({ minimum: 0, maximum: MAX_WINDOW }),
              Type.Integer({ minimum: 0, maximum: MAX_WINDOW }),
              Type.Integer({ minimum: 0, maximum: MAX_WINDOW }),
            ],
            { description: 'Zero padding as `[top, bottom, left, right]`.' },
          ),
        ],
        {
          default: LAYER_DEFAULTS.convPadding,
          ...expects(`"same", "valid", an integer from 0 to ${MAX_WINDOW} or [top, bottom, left, right]`),
          description:
            "Default 'valid' (as in Keras). An explicit zero padding P follows the lesson's formula " +
            "out = floor((in - F + 2P) / S) + 1; it is built as a zero-padding layer followed by a 'valid' convolution.",
        },
      ),
    ),
    activation: Type.Optional(activation('Activation applied after the convolution. Default `linear` (none).', LAYER_DEFAULTS.activation)),
    useBias: Type.Optional(Type.Boolean({ default: LAYER_DEFAULTS.useBias, description: 'Add a bias per filter. Default true.' })),
    kernelInitializer: initializer(LAYER_DEFAULTS.kernelInitializer, 'filter weights'),
    biasInitializer: initializer(LAYER_DEFAULTS.biasInitializer, 'biases'),
    name: layerName(),
  },
  {
    additionalProperties: false,
    title: 'Conv2dLayer',
    description: '2-D convolution with weights shared across space. Input must be [height, width, channels].',
  },
);

function poolLayer<T extends 'maxPool2d' | 'avgPool2d'>(type: T, title: string, what: string) {
  return Type.Object(
    {
      type: layerType(type),
      poolSize: Type.Optional(windowSize(`Pooling window: \`n\` or \`[height, width]\`. Default ${LAYER_DEFAULTS.poolSize}.`, LAYER_DEFAULTS.poolSize)),
      strides: Type.Optional(windowSize('Stride: `n` or `[height, width]`. Default: the pool size.')),
      padding: Type.Optional(
        Type.Enum(['same', 'valid'] as const, {
          default: LAYER_DEFAULTS.poolPadding,
          description: "TensorFlow padding, 'same' or 'valid'. Default 'valid'.",
        }),
      ),
      name: layerName(),
    },
    {
      additionalProperties: false,
      title,
      description: `${what} Input must be [height, width, channels]; channels are kept.`,
    },
  );
}

export const MaxPool2dLayerSchema = poolLayer('maxPool2d', 'MaxPool2dLayer', 'Max pooling: keeps the largest value of each window.');
export const AvgPool2dLayerSchema = poolLayer('avgPool2d', 'AvgPool2dLayer', 'Average pooling over each window.');

export const GlobalAvgPool2dLayerSchema = Type.Object(
  {
    type: layerType('globalAvgPool2d'),
    name: layerName(),
  },
  {
    additionalProperties: false,
    title: 'GlobalAvgPool2dLayer',
    description: 'Averages each channel over height and width: [h, w, c] becomes [c].',
  },
);

export const FlattenLayerSchema = Type.Object(
  {
    type: layerType('flatten'),
    name: layerName(),
  },
  {
    additionalProperties: false,
    title: 'FlattenLayer',
    description: 'Reshapes [h, w, c] into [h * w * c] so that dense layers can follow.',
  },
);

export const DenseLayerSchema = Type.Object(
  {
    type: layerType('dense'),
    units: Type.Integer({ minimum: 1, maximum: MAX_UNITS, description: 'Number of output units.' }),
    activation: Type.Optional(activation('Activation. Default `linear` (none).', LAYER_DEFAULTS.activation)),
    useBias: Type.Optional(Type.Boolean({ default: LAYER_DEFAULTS.useBias, description: 'Add a bias per unit. Default true.' })),
    kernelInitializer: initializer(LAYER_DEFAULTS.kernelInitializer, 'weights'),
    biasInitializer: initializer(LAYER_DEFAULTS.biasInitializer, 'biases'),
    name: layerName(),
  },
  {
    additionalProperties: false,
    title: 'DenseLayer',
    description: 'Fully connected layer. Input must be flat ([n]); put a flatten or globalAvgPool2d layer before it.',
  },
);

export const DropoutLayerSchema = Type.Object(
  {
    type: layerType('dropout'),
    rate: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      description: "Fraction of units dropped while training, in [0, 1). The lesson's keep_prob is 1 - rate.",
    }),
    name: layerName(),
  },
  {
    additionalProperties: false,
    title: 'DropoutLayer',
    description: 'Randomly zeroes units while training; does nothing at inference.',
  },
);

export const ActivationLayerSchema = Type.Object(
  {
    type: layerType('activation'),
    activation: activation('Activation function to apply.'),
    name: layerName(),
  },
  {
    additionalProperties: false,
    title: 'ActivationLayer',
    description: 'Applies an activation element-wise; the shape is unchanged.',
  },
);

export const BatchNormLayerSchema = Type.Object(
  {
    type: layerType('batchNorm'),
    momentum: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        default: LAYER_DEFAULTS.momentum,
        description: 'Momentum of the moving mean and variance. Default 0.99.',
      }),
    ),
    epsilon: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        default: LAYER_DEFAULTS.epsilon,
        description: 'Added to the variance to avoid dividing by zero. Default 0.001.',
      }),
    ),
    name: layerName(),
  },
  {
    additionalProperties: false,
    title: 'BatchNormLayer',
    description: 'Batch normalization over the last axis (channels): 4 * C parameters, 2 * C of them trainable.',
  },
);

/** Types allowed inside an inception branch; the order is the schema's `oneOf` order. */
export const BRANCH_LAYER_SCHEMAS = {
  conv2d: Conv2dLayerSchema,
  maxPool2d: MaxPool2dLayerSchema,
  avgPool2d: AvgPool2dLayerSchema,
  batchNorm: BatchNormLayerSchema,
  activation: ActivationLayerSchema,
  dropout: DropoutLayerSchema,
} as const;

export type BranchLayerType = keyof typeof BRANCH_LAYER_SCHEMAS;
export type BranchLayerSpec = { [T in BranchLayerType]: Static<(typeof BRANCH_LAYER_SCHEMAS)[T]> }[BranchLayerType];

/**
 * Builds a union as `oneOf` + `discriminator` rather than TypeBox's `anyOf`:
 * ajv (with `discriminator: true`) then validates only the branch named by
 * `type`, so errors point at the bad field of that layer instead of listing
 * every layer type's complaints.
 */
function discriminatedUnion<T>(variants: Record<string, TSchema>, description: string) {
  return Type.Unsafe<T>({
    type: 'object',
    description,
    oneOf: Object.values(variants),
    discriminator: { propertyName: 'type' },
  });
}

export const BranchLayerSpecSchema = discriminatedUnion<BranchLayerSpec>(
  BRANCH_LAYER_SCHEMAS,
  'A layer inside an inception branch, selected by `type`: conv2d, maxPool2d, avgPool2d, batchNorm, activation or dropout.',
);

/** The inception fields except `branches`, shared with the shallow check in the normalizer. */
export const INCEPTION_BASE_PROPERTIES = {
  type: layerType('inception'),
  name: layerName(),
};

export const INCEPTION_BRANCHES_DESCRIPTION =
  `${MIN_BRANCHES} to ${MAX_BRANCHES} branches, each a list of 1 to ${MAX_BRANCH_LAYERS} layers applied to the ` +
  "module's input. Every branch must end with the same height and width; outputs are concatenated along channels.";

export const InceptionLayerSchema = Type.Object(
  {
    ...INCEPTION_BASE_PROPERTIES,
    branches: Type.Array(Type.Array(BranchLayerSpecSchema, { minItems: 1, maxItems: MAX_BRANCH_LAYERS }), {
      minItems: MIN_BRANCHES,
      maxItems: MAX_BRANCHES,
      description: INCEPTION_BRANCHES_DESCRIPTION,
    }),
  },
  {
    additionalProperties: false,
    title: 'InceptionLayer',
    description: 'GoogLeNet-style inception module: instead of choosing between pooling and 1x1, 3x3 or 5x5 ' + 'convolutions, run them side by side and stack the results.',
  },
);

/** Every layer schema by `type`; the order is the schema's `oneOf` order. */
export const LAYER_SCHEMAS = {
  conv2d: Conv2dLayerSchema,
  maxPool2d: MaxPool2dLayerSchema,
  avgPool2d: AvgPool2dLayerSchema,
  globalAvgPool2d: GlobalAvgPool2dLayerSchema,
  flatten: FlattenLayerSchema,
  dense: DenseLayerSchema,
  dropout: DropoutLayerSchema,
  activation: ActivationLayerSchema,
  batchNorm: BatchNormLayerSchema,
  inception: InceptionLayerSchema,
} as const;

export type LayerType = keyof typeof LAYER_SCHEMAS;
export const LAYER_TYPES = Object.keys(LAYER_SCHEMAS) as LayerType[];

export type Conv2dLayerSpec = Static<typeof Conv2dLayerSchema>;
export type MaxPool2dLayerSpec = Static<typeof MaxPool2dLayerSchema>;
export type AvgPool2dLayerSpec = Static<typeof AvgPool2dLayerSchema>;
export type GlobalAvgPool2dLayerSpec = Static<typeof GlobalAvgPool2dLayerSchema>;
export type FlattenLayerSpec = Static<typeof FlattenLayerSchema>;
export type DenseLayerSpec = Static<typeof DenseLayerSchema>;
export type DropoutLayerSpec = Static<typeof DropoutLayerSchema>;
export type ActivationLayerSpec = Static<typeof ActivationLayerSchema>;
export type BatchNormLayerSpec = Static<typeof BatchNormLayerSchema>;
export type InceptionLayerSpec = Static<typeof InceptionLayerSchema>;
export type LayerSpec = { [T in LayerType]: Static<(typeof LAYER_SCHEMAS)[T]> }[LayerType];

export const LayerSpecSchema = discriminatedUnion<LayerSpec>(LAYER_SCHEMAS, `A layer, selected by \`type\`: ${Object.keys(LAYER_SCHEMAS).join(', ')}.`);
