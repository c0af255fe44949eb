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

function fillImage(b64: string, image: NonNullable<Preprocessing['image']>, out: Float32Array, offset: number, path: string): void {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0 || bytes.length > MAX_IMAGE_BYTES) throw new InstanceError(`${path}.b64`, `${path}.b64 must be a base64 PNG or JPEG of at most ${MAX_IMAGE_BYTES} bytes`);
  const kind = sniffImage(bytes);
  if (!kind) throw new InstanceError(`${path}.b64`, `${path}.b64 is not a PNG or JPEG image`);
  let decoded: ReturnType<typeof decodeImage>;
  try {
    decoded = decodeImage(bytes, kind);
  } catch (err) {
    throw new InstanceError(`${path}.b64`, `${path}.b64 cannot be decoded as ${kind.toUpperCase()}: ${(err as Error).message}`);
  }
  const pixels = new Uint8Array(image.width * image.height * image.channels);
  resizeRgbaInto(decoded, image.width, image.height, image.channels as 1 | 3, pixels, 0);
  for (let i = 0; i < pixels.length; i++) out[offset + i] = pixels[i] * image.valueScale;
}

/** Instances as read on the event loop: numbers are in `raw`; images wait to be decoded off it. */
export interface ReadInstances {
  /** Raw values before normalisation, `count * prod(inputShape)` of them; image slots are still zero. */
  raw: Float32Array;
  count: number;
  /** Instances sent as {"b64": ...}: decoded by {@link decodeImagesInto}, on a worker thread. */
  images: { index: number; b64: string }[];
}

/**
 * Checks every instance against the input shape and copies numbers into one
 * buffer. Linear in the input and cheap; decoding images is not, so they are
 * only collected here. `path` names the instances in errors (`instances`,
 * `inputs[0].data`).
 */
export function readInstances(instances: unknown[], inputShape: number[], pre: Pick<Preprocessing, 'image'> = {}, path = 'instances'): ReadInstances {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const raw = new Float32Array(instances.length * size);
  const images: ReadInstances['images'] = [];
  instances.forEach((instance, i) => {
    const at = `${path}[${i}]`;
    if (instance !== null && typeof instance === 'object' && !Array.isArray(instance)) {
      if (!pre.image)
        throw new InstanceError(at, `${at}: this model takes numbers, not images; send a list in the input shape [${inputShape.join(', ')}] or a flat list of ${size} numbers`);
      const { b64 } = instance as { b64?: unknown };
      if (typeof b64 !== 'string' || Object.keys(instance).length !== 1) {
        throw new InstanceError(at, `${at} must be {"b64": "<base64 PNG or JPEG>"} with no other field`);
      }
      images.push({ index: i, b64 });
      return;
    }
    const flat = Array.isArray(instance) && instance.length === size && (inputShape.length === 1 || !Array.isArray(instance[0]));
    if (flat) {
      fillNested(instance, [size], 0, raw, i * size, at);
      return;
    }
    if (!Array.isArray(instance)) {
      throw new InstanceError(
        at,
        `${at} must be a list in the input shape [${inputShape.join(', ')}] or a flat list of ${size} numbers${pre.image ? ', or {"b64": "<PNG or JPEG>"}' : ''}, got ${describe(instance)}`,
      );
    }
    if (instance.length !== inputShape[0] || inputShape.length === 1) {
      throw new InstanceError(at, `${at} must have the input shape [${inputShape.join(', ')}] or be a flat list of ${size} numbers, got ${describe(instance)}`);
    }
    fillNested(instance, inputShape, 0, raw, i * size, at);
  });
  return { raw, count: instances.length, images };
}

/** Decodes images into their instances' slots of `out` (CPU-heavy: run it off the event loop). */
export function decodeImagesInto(images: ReadInstances['images'], image: NonNullable<Preprocessing['image']>, out: Float32Array, path = 'instances'): void {
  const size = image.width * image.height * image.channels;
  for (const { index, b64 } of images) fillImage(b64, image, out, index * size, `${path}[${index}]`);
}

/**
 * An image model saw pixel values in one range; numbers in another (0..255
 * sent to a model trained on 0..1) would be silently wrong predictions, so
 * they are refused. Tabular models extrapolate, and are not checked.
 */
export function checkValueRange(read: ReadInstances, pre: Pick<Preprocessing, 'image' | 'valueRange'>, path = 'instances'): void {
  if (!pre.image || read.count === 0) return;
  const [lo, hi] = pre.valueRange;
  const slack = (hi - lo) * 1e-6;
  const size = read.raw.length / read.count;
  const skip = new Set(read.images.map((m) => m.index));
  for (let i = 0; i < read.count; i++) {
    if (skip.has(i)) continue;
    for (let j = i * size; j < (i + 1) * size; j++) {
      const v = read.raw[j];
      if (v < lo - slack || v > hi + slack) {
        const at = `${path}[${i}]`;
        const hint = hi <= 1 && v > 1 ? ' (divide 0..255 pixel values by 255)' : '';
        throw new InstanceError(
          at,
          `${at} has the value ${Number(v.toPrecision(6))} at position ${j - i * size}, outside ${lo}..${hi}: this image model was trained on pixel values in ${lo}..${hi}; send values in that range${hint}, or the image itself as {"b64": "<PNG or JPEG>"}`,
        );
      }
    }
  }
}

/** Applies the model's normalisation in place. */
export function normalizeInPlace(raw: Float32Array, n: Normalization | undefined): Float32Array {
  if (n) normalizeInto(raw, 0, raw.length, raw, 0, n);
  return raw;
}

/** All of the above in one synchronous call: for tests and in-process use, not for the API's event loop. */
export function instancesToBuffer(instances: unknown[], inputShape: number[], pre: Partial<Pick<Preprocessing, 'image' | 'normalization' | 'valueRange'>> = {}): Float32Array {
  const read = readInstances(instances, inputShape, pre);
  if (pre.image) decodeImagesInto(read.images, pre.image, read.raw);
  if (pre.valueRange) checkValueRange(read, { image: pre.image, valueRange: pre.valueRange });
  return normalizeInPlace(read.raw, pre.normalization);
}
