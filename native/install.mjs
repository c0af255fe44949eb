// Builds the native engine's add-on at `npm install` / `npm ci` (and `npm run
// build:native`). It is optional: where oneDNN's headers or a C++ toolchain
// are missing, this prints one line and exits 0, and ENGINE=auto trains on
// wasm. TRAINYARD_NATIVE=require (CI) makes any failure fatal;
// TRAINYARD_NATIVE=skip skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const addon = path.join(here, 'build', 'Release', 'trainyard_native.node');
const logFile = path.join(here, 'build.log');
const APT = 'apt-get install -y g++ make python3 libdnnl-dev';
const mode = process.env.TRAINYARD_NATIVE ?? 'auto';

function done(message, ok) {
  const required = mode === 'require';
  console.log(`trainyard: ${message}`);
  process.exit(ok || !required ? 0 : 1);
}

if (!['auto', 'require', 'skip'].includes(mode)) {
  console.log(`trainyard: TRAINYARD_NATIVE must be auto, require or skip, got ${JSON.stringify(mode)}`);
  process.exit(1);
}
if (mode === 'skip') done('native engine not built (TRAINYARD_NATIVE=skip); ENGINE=auto trains on wasm', true);

const headerDirs = ['/usr/include', '/usr/local/include', ...(process.env.CPATH ?? '').split(':').filter(Boolean)];
if (!headerDirs.some((dir) => existsSync(path.join(dir, 'oneapi', 'dnnl', 'dnnl.hpp')))) {
  done(`native engine not built: oneDNN is not installed (\`${APT}\` enables it); ENGINE=auto trains on wasm`, false);
}
const missingTool = ['c++', 'make', 'python3'].find((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missingTool) done(`native engine not built: \`${missingTool}\` is missing (\`${APT}\` enables it); ENGINE=auto trains on wasm`, false);

// npm hands its own node-gyp to install scripts; `npm run build:native` has it too.
const nodeGyp = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].find((candidate) => candidate && existsSync(candidate));
if (!nodeGyp) done('native engine not built: node-gyp (shipped with npm) was not found; ENGINE=auto trains on wasm', false);

// Node's own headers, so that node-gyp never tries to download them.
const args = [nodeGyp, 'rebuild', '--release'];
const installedHeaders = path.resolve(path.dirname(process.execPath), '..', 'include', 'node', 'node_api.h');
if (!process.env.npm_config_nodedir && existsSync(installedHeaders)) args.push(`--nodedir=${path.resolve(installedHeaders, '..', '..', '..')}`);

const build = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
writeFileSync(logFile, `${build.stdout ?? ''}${build.stderr ?? ''}${build.error ? String(build.error) : ''}`);
if (build.status !== 0 || !existsSync(addon)) {
  done(`native engine build failed (log: ${path.relative(process.cwd(), logFile)}); ENGINE=auto trains on wasm`, false);
}

// Built is not enough: it must load (libdnnl.so.2 present, symbols resolved).
try {
  const info = createRequire(import.meta.url)(addon).info();
  done(`native engine built (${info.library} ${info.version}, ${info.convolution})`, true);
} catch (err) {
  done(`native engine built but does not load (${String(err?.message ?? err).split('\n')[0]}); ENGINE=auto trains on wasm`, false);
}
