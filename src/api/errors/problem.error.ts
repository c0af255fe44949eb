/**
 * Base of every error the API answers with on purpose. `code` is stable and
 * documented; the error handler turns it into an RFC 9457 problem body.
 */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;

  constructor(status: number, code: string, title: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'ProblemError';
    this.status = status;
    this.code = code;
    this.title = title;
    this.extensions = extensions;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
