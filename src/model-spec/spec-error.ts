/**
 * Where in a model or training spec a problem was found. Every field is
 * optional because some problems (a bad `input.shape`, a training field)
 * have no layer.
 */
export interface SpecErrorLocation {
  /**
   * 0-based index into `layers`, the same number as in the JSON pointer
   * `/layers/<index>`; for a layer inside an inception branch this is the
   * index of the inception layer.
   */
  layerIndex?: number;
  /** Type of the layer at fault (the inner layer's type inside a branch). */
  layerType?: string;
  /** Resolved name of the layer at fault, when one is known. */
  layerName?: string;
  /** Spec field at fault, e.g. `kernelSize` or `input.shape`. */
  field?: string;
  /** 0-based inception branch, when the fault is inside a branch. */
  branch?: number;
  /** 0-based index of the layer inside `branch`. */
  branchLayerIndex?: number;
  /** JSON pointer into the submitted document, e.g. `/layers/3/kernelSize`. */
  path?: string;
}

/**
 * A model or training spec that can never train. Callers should treat it as
 * a client error (HTTP 400) and, in a worker, as non-retryable: retrying the
 * same JSON gives the same answer.
 */
export class SpecError extends Error {
  readonly code = 'INVALID_SPEC' as const;
  readonly statusCode = 400 as const;
  readonly layerIndex: number | undefined;
  readonly layerType: string | undefined;
  readonly layerName: string | undefined;
  readonly field: string | undefined;
  readonly branch: number | undefined;
  readonly branchLayerIndex: number | undefined;
  readonly path: string | undefined;

  constructor(message: string, location: SpecErrorLocation = {}) {
    super(message);
    this.name = 'SpecError';
    // Keeps `instanceof` reliable even if this is ever compiled to ES5 or
    // crosses a realm boundary through a bundler.
    Object.setPrototypeOf(this, new.target.prototype);
    this.layerIndex = location.layerIndex;
    this.layerType = location.layerType;
    this.layerName = location.layerName;
    this.field = location.field;
    this.branch = location.branch;
    this.branchLayerIndex = location.branchLayerIndex;
    this.path = location.path;
  }

  /** Plain JSON for problem-details bodies and job failure records. */
  toJSON(): { code: 'INVALID_SPEC'; message: string } & SpecErrorLocation {
    const { layerIndex, layerType, layerName, field, branch, branchLayerIndex, path } = this;
    return { code: this.code, message: this.message, layerIndex, layerType, layerName, field, branch, branchLayerIndex, path };
  }
}

/** Identifies a layer in error messages; see {@link layerLabel}. */
export interface LayerRef {
  index: number;
  type: string;
  /** Only names the user wrote are shown; generated ones would only confuse. */
  userName?: string | undefined;
  /** The resolved (possibly generated) name, kept on the error object. */
  name?: string | undefined;
  /** Set for layers inside an inception branch. */
  parent?: { index: number; type: string; userName?: string | undefined; name?: string | undefined; branch: number };
}

function labelOf(index: number, type: string, userName: string | undefined): string {
  return userName === undefined ? `layer ${index} (${type})` : `layer ${index} (${type} "${userName}")`;
}

/** `layer 3 (conv2d "stem")` or `layer 4 (inception) branch 1 layer 0 (conv2d)`. */
export function layerLabel(ref: LayerRef): string {
  const own = labelOf(ref.index, ref.type, ref.userName);
  if (ref.parent === undefined) return own;
  const parent = labelOf(ref.parent.index, ref.parent.type, ref.parent.userName);
  return `${parent} branch ${ref.parent.branch} ${own}`;
}

/** JSON pointer of a layer (or of one of its fields). */
export function layerPointer(ref: LayerRef, field?: string): string {
  const base = ref.parent === undefined ? `/layers/${ref.index}` : `/layers/${ref.parent.index}/branches/${ref.parent.branch}/${ref.index}`;
  return field === undefined ? base : `${base}/${field}`;
}

/** Builds a SpecError located at `ref`, prefixing the message with its label. */
export function layerError(ref: LayerRef, message: string, field?: string, pointer?: string): SpecError {
  const inBranch = ref.parent !== undefined;
  return new SpecError(`${layerLabel(ref)}: ${message}`, {
    layerIndex: inBranch ? ref.parent!.index : ref.index,
    layerType: ref.type,
    layerName: ref.name ?? ref.userName,
    field,
    branch: inBranch ? ref.parent!.branch : undefined,
    branchLayerIndex: inBranch ? ref.index : undefined,
    path: pointer ?? layerPointer(ref, field),
  });
}
