/**
 * An uploaded dataset that can never train: a broken or mismatched file, a
 * wrong option. Retrying with the same files gives the same answer, so the
 * API answers 400 and a worker treats it as non-retryable.
 */
export class DatasetFormatError extends Error {
  readonly code = 'invalid-dataset' as const;
  readonly statusCode = 400 as const;

  /**
   * @param field The upload form part (or option) at fault, e.g. `labels`,
   *   `file`, `x`, `width`; lets the client highlight the right input.
   */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'DatasetFormatError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
