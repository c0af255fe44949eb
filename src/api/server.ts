import closeWithGrace from 'close-with-grace';
import { loadConfig } from '../config/config.js';
import { buildApp } from './app.js';

const config = loadConfig();
const app = await buildApp(config);

closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS + config.SHUTDOWN_DRAIN_MS }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else {
    app.log.info({ signal, drainMs: config.SHUTDOWN_DRAIN_MS }, 'draining: new requests are answered 503 until the listener closes');
    await app.drain(config.SHUTDOWN_DRAIN_MS, config.SHUTDOWN_GRACE_MS / 2);
  }
  await app.close();
});

// Compute threads and their engine start before the first request, not during it.
const engine = await app.services.compute.start();
app.log.info({ threads: app.services.compute.threads, engine: engine.name, storage: app.services.artifacts.describe() }, 'compute threads ready');
await app.listen({ port: config.PORT, host: config.HOST });
app.log.info(`docs at http://${config.HOST}:${config.PORT}/docs`);
