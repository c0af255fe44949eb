export { ProblemError } from './problem.error.js';
export { NotFoundError } from './not-found.error.js';
export { InvalidRequestError, type FieldProblem } from './invalid-request.error.js';
export { ServiceUnavailableError } from './service-unavailable.error.js';
export { ConflictError } from './conflict.error.js';
export { UnauthorizedError } from './unauthorized.error.js';
export { ForbiddenError } from './forbidden.error.js';
export { QuotaExceededError } from './quota-exceeded.error.js';
