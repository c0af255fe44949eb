import { decodeImage, sniffImage } from '../data/parsers/image-decode.js';
import { resizeRgbaInto } from '../data/parsers/resize.js';
import { normalizeInto, type Normalization } from '../data/normalization.js';
import type { Preprocessing } from '../storage/model-artifacts.js';

/**
 * Turns predict instances into one flat Float32Array, checking each against
 * the model's input shape, then applies the normalisation the model was
 * trained with. An instance is nested like the shape ([28][28][1]), flat
 * (784 numbers), or for image models {"b64": "<PNG or JPEG>"}.
 */
export class InstanceError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InstanceError';
    Object.setPrototypeOf(this, InstanceError.prototype);
  }
}

/** Decoded images are capped well below what a model input could need. */
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null) return 'null';
  return typeof value === 'string' ? `the string ${JSON.stringify(value.slice(0, 20))}` : `${typeof value} ${JSON.stringify(value)}`;
}

function fillNested(value: unknown, shape: number[], depth: number, out: Float32Array, offset: number, path: string): number {
  if (depth === shape.length) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InstanceError(path, `${path} must be a finite number, got ${describe(value)}`);
    out[offset] = value;
    return offset + 1;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw new InstanceError(path, `${path} must be a list of ${shape[depth]} (input shape [${shape.join(', ')}]), got ${describe(value)}`);
  }
  for (let i = 0; i < value.length; i++) offset = fillNested(value[i], shape, depth + 1, out, offset, `${path}[${i}]`);
  return offset;
}

function fillImage(instance: { b64?: unknown }, image: NonNullable<Preprocessing['image']>, out: Float32Array, offset: number, path: string): void {
  if (typeof instance.b64 !== 'string' || Object.keys(instance).length !== 1) {
    throw new InstanceError(path, `${path} must be {"b64": "<base64 PNG or JPEG>"} with no other field`);
  }
  const bytes = Buffer.from(instance.b64, 'base64');
  if (bytes.length === 0 || bytes.length > MAX_IMAGE_BYTES) throw new InstanceError(`${path}.b64`, `${path}.b64 must be a base64 PNG or JPEG of at most ${MAX_IMAGE_BYTES} bytes`);
  const kind = sniffImage(bytes);
  if (!kind) throw new InstanceError(`${path}.b64`, `${path}.b64 is not a PNG or JPEG image`);
  let decoded;
  try {
    decoded = decodeImage(bytes, kind);
  } catch (err) {
    throw new InstanceError(`${path}.b64`, `${path}.b64 cannot be decoded as ${kind.toUpperCase()}: ${(err as Error).message}`);
  }
  const pixels = new Uint8Array(image.width * image.height * image.channels);
  resizeRgbaInto(decoded, image.width, image.height, image.channels as 1 | 3, pixels, 0);
  for (let i = 0; i < pixels.length; i++) out[offset + i] = pixels[i] * image.valueScale;
}

export function instancesToBuffer(instances: unknown[], inputShape: number[], pre: Pick<Preprocessing, 'image' | 'normalization'> = {}): Float32Array {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const raw = new Float32Array(instances.length * size);
  instances.forEach((instance, i) => {
    const path = `instances[${i}]`;
    if (instance !== null && typeof instance === 'object' && !Array.isArray(instance)) {
      if (!pre.image) throw new InstanceError(path, `${path}: this model takes numbers, not images; send a list in the input shape [${inputShape.join(', ')}] or a flat list of ${size} numbers`);
      fillImage(instance as { b64?: unknown }, pre.image, raw, i * size, path);
      return;
    }
    const flat = Array.isArray(instance) && instance.length === size && (inputShape.length === 1 || !Array.isArray(instance[0]));
    if (flat) {
      fillNested(instance, [size], 0, raw, i * size, path);
      return;
    }
    if (!Array.isArray(instance)) {
      throw new InstanceError(path, `${path} must be a list in the input shape [${inputShape.join(', ')}] or a flat list of ${size} numbers${pre.image ? ', or {"b64": "<PNG or JPEG>"}' : ''}, got ${describe(instance)}`);
    }
    if (instance.length !== inputShape[0] || inputShape.length === 1) {
      throw new InstanceError(path, `${path} must have the input shape [${inputShape.join(', ')}] or be a flat list of ${size} numbers, got ${describe(instance)}`);
    }
    fillNested(instance, inputShape, 0, raw, i * size, path);
  });
  return normalize(raw, pre.normalization);
}

function normalize(raw: Float32Array, n: Normalization | undefined): Float32Array {
  if (!n) return raw;
  normalizeInto(raw, 0, raw.length, raw, 0, n);
  return raw;
}
