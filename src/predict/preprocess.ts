/**
 * Turns predict instances into one flat Float32Array, checking each against
 * the model's input shape. An instance is either nested like the shape
 * ([28][28][1]) or flat (784 numbers).
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

export function instancesToBuffer(instances: unknown[], inputShape: number[]): Float32Array {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(instances.length * size);
  instances.forEach((instance, i) => {
    const path = `instances[${i}]`;
    const flat = Array.isArray(instance) && instance.length === size && (inputShape.length === 1 || !Array.isArray(instance[0]));
    if (flat) {
      fillNested(instance, [size], 0, out, i * size, path);
      return;
    }
    if (!Array.isArray(instance)) {
      throw new InstanceError(path, `${path} must be a list in the input shape [${inputShape.join(', ')}] or a flat list of ${size} numbers, got ${describe(instance)}`);
    }
    if (instance.length !== inputShape[0] || inputShape.length === 1) {
      throw new InstanceError(
        path,
        `${path} must have the input shape [${inputShape.join(', ')}] or be a flat list of ${size} numbers, got ${describe(instance)}`,
      );
    }
    fillNested(instance, inputShape, 0, out, i * size, path);
  });
  return out;
}
