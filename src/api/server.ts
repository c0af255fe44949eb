import closeWithGrace from 'close-with-grace';
import { loadConfig } from '../config/config.js';
import { buildApp } from './app.js';

const config = loadConfig();
const app = await buildApp(config);

closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal }, 'closing');
  await app.close();
});

await app.listen({ port: config.PORT, host: config.HOST });
app.log.info(`docs at http://${config.HOST}:${config.PORT}/docs`);
