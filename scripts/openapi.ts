/**
 * Writes openapi.yaml from the app's route schemas. `--check` only compares
 * and exits 1 when the committed file is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { generateOpenApiYaml } from '../src/api/openapi.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'openapi.yaml');
// Documented limits come from configuration: generate with the defaults, not this shell's overrides.
const yaml = await generateOpenApiYaml(loadConfig({ DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL }, { LOG_LEVEL: 'silent' }));
if (process.argv.includes('--check')) {
  const committed = await readFile(file, 'utf8').catch(() => '');
  if (committed !== yaml) {
    console.error('openapi.yaml is out of date: run `npm run openapi` and commit the result');
    process.exit(1);
  }
  console.log('openapi.yaml is up to date');
} else {
  await writeFile(file, yaml);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
process.exit(0);
