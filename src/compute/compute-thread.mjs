// Worker threads do not inherit the TypeScript loader of the main thread:
// register it here, then load the real entry.
import { register } from 'tsx/esm/api';

register();
const entry = await import('./compute.worker.ts');

export default entry.default;
