/**
 * A native kernel failed inside the add-on (oneDNN refused a shape, memory
 * ran out, a C++ exception): the add-on turned it into a JavaScript error
 * before it could reach the process. The batch that hit it cannot finish;
 * retrying the job on the same engine fails the same way, so the trainer
 * fails the job with this message.
 */
export class NativeKernelError extends Error {
  readonly code = 'NATIVE_KERNEL_FAILED';

  constructor(
    /** The tfjs kernel that failed, e.g. 'Conv2DBackpropFilter'. */
    readonly kernel: string,
    /** The add-on's error code: ERR_NATIVE_ARGUMENT, ERR_NATIVE_ONEDNN, ERR_NATIVE_OUT_OF_MEMORY or ERR_NATIVE_KERNEL. */
    readonly nativeCode: string,
    detail: string,
  ) {
    super(`native engine: ${kernel} failed: ${detail}`);
    this.name = 'NativeKernelError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
