import pino from 'pino';
import { loadConfig } from '../config/config.js';
import { artifactStoreFor } from '../storage/artifact-store.js';
import { startTrainingWorker, WORKER_EXIT_MARGIN_MS } from './worker.js';

const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL, name: 'worker' });
const running = await startTrainingWorker(config, log, { metricsPort: config.WORKER_METRICS_PORT });
log.info(
  { queue: config.QUEUE_NAME, concurrency: config.WORKER_CONCURRENCY, metricsPort: running.metricsServer?.port, storage: artifactStoreFor(config).describe() },
  'worker ready',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'closing worker: the current job stops after its batch and is handed back');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS + WORKER_EXIT_MARGIN_MS);
    await running.close();
    clearTimeout(force);
    process.exit(0);
  });
}
