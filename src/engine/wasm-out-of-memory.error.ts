/**
 * The wasm engine could not allocate a tensor: its heap is full and cannot
 * grow (tfjs-wasm's heap is limited to 4 GiB), or one tensor alone is larger
 * than the heap can ever be. The trainer turns it into a TrainingError that
 * names the job's model and batch sizes.
 */
export class WasmOutOfMemoryError extends RangeError {
  readonly code = 'WASM_OUT_OF_MEMORY';

  constructor(
    /** Bytes asked for. */
    readonly requestedBytes: number,
    /** Size of the heap when the allocation failed. */
    readonly heapBytes: number,
    /** Largest size the heap can grow to. */
    readonly heapMaxBytes: number,
  ) {
    super(`wasm out of memory: could not allocate ${formatBytes(requestedBytes)} ` + `(heap ${formatBytes(heapBytes)} of at most ${formatBytes(heapMaxBytes)})`);
    this.name = 'WasmOutOfMemoryError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} B`;
}
