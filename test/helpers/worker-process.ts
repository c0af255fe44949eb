import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { configToEnv, type AppConfig } from '../../src/config/config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `npm run worker`'s entry as a real process with `config`, resolving once it logs "worker ready". */
export async function spawnWorker(config: AppConfig): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), 'src/worker/main.ts'], {
    cwd: root,
    env: { ...process.env, ...configToEnv(config), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes('"worker ready"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`worker exited:\n${out}`)));
  });
  return { child, output: () => out, exited };
}
