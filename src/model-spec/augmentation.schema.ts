import { Type, type Static } from 'typebox';

/** Defaults of `training.augmentation`'s fields: each transform is off unless asked for. */
export const AUGMENTATION_DEFAULTS = { shift: 0, rotation: 0, zoom: 0, flipHorizontal: false } as const;

export const AugmentationSchema = Type.Object(
  {
    shift: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 0.5,
        default: AUGMENTATION_DEFAULTS.shift,
        description: 'Largest shift, as a fraction of the width (sideways) and of the height (up and down), in [0, 0.5]. Default 0.',
      }),
    ),
    rotation: Type.Optional(
      Type.Number({ minimum: 0, maximum: 180, default: AUGMENTATION_DEFAULTS.rotation, description: 'Largest rotation either way, in degrees, in [0, 180]. Default 0.' }),
    ),
    zoom: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 0.5,
        default: AUGMENTATION_DEFAULTS.zoom,
        description: 'Largest change of scale, as a fraction: 0.1 scales each image by a factor in [0.9, 1.1]. In [0, 0.5]. Default 0.',
      }),
    ),
    flipHorizontal: Type.Optional(
      Type.Boolean({
        default: AUGMENTATION_DEFAULTS.flipHorizontal,
        description: 'Mirror half of the images left to right. Default false: wrong for digits and text, right for most photos.',
      }),
    ),
  },
  {
    additionalProperties: false,
    title: 'Augmentation',
    description:
      'Random changes to each training image, drawn anew every epoch from the job seed: a shift, a rotation and a zoom about the ' +
      'centre (one affine resampling, bilinear, edges extended), and optionally a mirror image. Validation and test images are ' +
      'never changed. For image datasets only (built-in mnist, idx and images uploads).',
  },
);

export type Augmentation = Static<typeof AugmentationSchema>;
export type NormalizedAugmentation = Required<Augmentation>;

// Type.Required keeps the properties only: additionalProperties is set again.
export const NormalizedAugmentationSchema = Type.Object(Type.Required(AugmentationSchema).properties, { additionalProperties: false, title: 'NormalizedAugmentation' });
