// The classifier is shared with the worker (which retries what an outage interrupted); it lives in src/infra.
export { dependencyOutage, type Dependency } from '../../infra/dependency-outage.js';
