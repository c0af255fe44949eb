import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { configToEnv, type AppConfig } from '../../src/config/config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGTERM unless it has already exited, then waits for the exit. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Settings the process must not have at all (e.g. ARTIFACT_DIR, for a worker on "another host"). */
  without?: (keyof AppConfig)[];
}

/** Runs an entry of this repository as a real process with `config`, resolving once its output includes `readyText`. */
export async function spawnEntry(entry: string, config: AppConfig, readyText: string, options: SpawnOptions = {}): Promise<WorkerProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...configToEnv(config), LOG_LEVEL: 'info' };
  for (const key of options.without ?? []) delete env[key];
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes(readyText)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`${entry} exited:\n${out}`)));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return { child, output: () => out, exited, stop };
}

/** Runs `npm run worker`'s entry as a real process with `config`, resolving once it logs "worker ready". */
export function spawnWorker(config: AppConfig, options?: SpawnOptions): Promise<WorkerProcess> {
  return spawnEntry('src/worker/main.ts', config, '"worker ready"', options);
}

/** Runs `npm run api`'s entry as a real process with `config`, resolving once it listens. */
export function spawnApi(config: AppConfig, options?: SpawnOptions): Promise<WorkerProcess> {
  return spawnEntry('src/api/server.ts', config, 'Server listening at', options);
}
