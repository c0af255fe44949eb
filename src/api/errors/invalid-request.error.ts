import { ProblemError } from './problem.error.js';

/** One problem with the request: `field` is a JSON-pointer-like path ("model.layers[3].kernelSize"). */
export interface FieldProblem {
  field: string;
  message: string;
}

export class InvalidRequestError extends ProblemError {
  constructor(detail: string, errors: FieldProblem[] = [], code = 'invalid-request') {
    super(400, code, 'Invalid Request', detail, { errors });
    this.name = 'InvalidRequestError';
  }
}
