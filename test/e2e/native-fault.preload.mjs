// Preloaded into a worker's sandbox processes (NODE_OPTIONS=--import) by
// native-engine.test.ts: the native add-on's Conv2DBackpropFilter throws
// inside C++ on its first call in that process, as a failing library would.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('../../native/build/Release/trainyard_native.node').injectFault('conv2dBackpropFilter');
