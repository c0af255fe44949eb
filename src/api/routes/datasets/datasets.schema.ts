import { Type } from 'typebox';
import { Nullable } from '../../schemas/common.schema.js';

export const DatasetSchema = Type.Object(
  {
    id: Type.String({ description: 'A built-in name (mnist) or the UUID of an upload.' }),
    name: Type.String(),
    description: Type.String(),
    builtin: Type.Boolean(),
    format: Type.String({ description: 'builtin, idx, csv, npy or images.' }),
    examples: Type.Integer(),
    inputShape: Type.Array(Type.Integer(), { description: 'Shape of one example: [height, width, channels] or [features].' }),
    numClasses: Type.Integer(),
    classNames: Type.Array(Type.String(), { description: 'Name of each class index (CSV string labels are sorted).' }),
    perClassCounts: Nullable(Type.Array(Type.Integer())),
    valueRange: Type.Array(Type.Number(), { description: '[min, max] of the raw values.' }),
    mean: Nullable(Type.Array(Type.Number(), { description: 'Per channel (last axis).' })),
    std: Nullable(Type.Array(Type.Number(), { description: 'Per channel (last axis).' })),
    dtype: Type.String({ description: 'uint8 or float32: how the values are stored.' }),
    image: Nullable(
      Type.Object({ width: Type.Integer(), height: Type.Integer(), channels: Type.Integer() }, { description: 'Image datasets: predict also takes {"b64": PNG/JPEG}.' }),
    ),
    sizeBytes: Nullable(Type.Integer({ description: 'Stored size of the examples.' })),
    uploadBytes: Nullable(Type.Integer()),
    contentHash: Nullable(Type.String({ description: 'SHA-256 of format, options and files: the same upload returns the same dataset.' })),
    createdAt: Nullable(Type.String({ format: 'date-time' })),
    preview: Type.Optional(
      Type.Object(
        {
          thumbnails: Type.Optional(Type.Array(Type.Object({ label: Type.String(), dataUrl: Type.String() }))),
          rows: Type.Optional(Type.Array(Type.Object({ label: Type.String(), values: Type.Array(Type.Number()), truncated: Type.Boolean() }))),
        },
        { description: 'The first examples (GET /v1/datasets/{id} only).' },
      ),
    ),
  },
  { title: 'Dataset' },
);

export const DatasetParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

const file = (description: string) => Type.String({ format: 'binary', description });

/** Documents the multipart form; multipart bodies are checked by the service, not by ajv. */
export const UploadFormSchema = Type.Object({
  format: Type.Enum(['idx', 'csv', 'npy', 'images'], { description: 'Which files follow.' }),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  images: Type.Optional(file('idx: the images file (e.g. train-images-idx3-ubyte, raw or .gz).')),
  labels: Type.Optional(file('idx: the labels file (raw or .gz).')),
  file: Type.Optional(file('csv: the table (header row, numeric features, one label column). images: a zip with one folder per class of PNG/JPEG images.')),
  labelColumn: Type.Optional(Type.String({ description: 'csv: the label column, by name. Default: the last column.' })),
  x: Type.Optional(file('npy: x.npy (float32, float64 or uint8), examples along the first axis.')),
  y: Type.Optional(file('npy: y.npy (integer class indices, or one-hot rows).')),
  width: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'images: width every image is resized to.' })),
  height: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'images: height every image is resized to.' })),
  channels: Type.Optional(Type.Integer({ minimum: 1, maximum: 3, description: 'images: 1 (grayscale) or 3 (RGB). Default 1.' })),
});
