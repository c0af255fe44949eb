import type { AppConfig } from '../config/config.js';
import { buildApp } from './app.js';

/** The OpenAPI document exactly as the running app serves it at /docs/json, as YAML. */
export async function generateOpenApiYaml(config: AppConfig): Promise<string> {
  const app = await buildApp(config, { logger: false });
  try {
    await app.ready();
    return app.swagger({ yaml: true });
  } finally {
    await app.close();
  }
}
