import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * native/install.mjs runs at `npm install` / `npm ci`. Where oneDNN or a
 * toolchain is missing it must not fail the install: one line says what is
 * missing and how to get it, and the engine falls back to wasm. Here the
 * toolchain is hidden (an empty PATH), so nothing is built or touched.
 */
const SCRIPT = path.resolve(__dirname, '../../native/install.mjs');

function install(env: Record<string, string>) {
  return spawnSync(process.execPath, [SCRIPT], { env: { PATH: '/nonexistent', ...env }, encoding: 'utf8' });
}

describe('native/install.mjs', () => {
  it('prints one line and succeeds where it cannot build', () => {
    const run = install({});
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^trainyard: native engine not built: .* \(`apt-get install -y g\+\+ make python3 libdnnl-dev` enables it\); ENGINE=auto trains on wasm$/);
    expect(run.stderr).toBe('');
  });

  it('fails where the native engine is required (CI)', () => {
    const run = install({ TRAINYARD_NATIVE: 'require' });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^trainyard: native engine not built: /);
  });

  it('skips on request, and names a bad setting', () => {
    expect(install({ TRAINYARD_NATIVE: 'skip' })).toMatchObject({ status: 0, stdout: 'trainyard: native engine not built (TRAINYARD_NATIVE=skip); ENGINE=auto trains on wasm\n' });
    expect(install({ TRAINYARD_NATIVE: 'yes' })).toMatchObject({ status: 1, stdout: 'trainyard: TRAINYARD_NATIVE must be auto, require or skip, got "yes"\n' });
  });
});
