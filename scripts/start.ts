/**
 * `npm start`: applies migrations, then runs the API, one training worker and
 * one webhook delivery process as three processes. Ctrl-C (or SIGTERM) stops
 * them gracefully; if one exits, the others are stopped too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = ['--import', import.meta.resolve('tsx')];

function run(name: string, script: string): ChildProcess {
  const child = spawn(process.execPath, [...tsx, path.join(root, script)], { cwd: root, stdio: 'inherit', env: process.env });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping`);
      stop('SIGTERM', code ?? 1);
    }
  });
  return child;
}

let stopping = false;
let children: ChildProcess[] = [];
function stop(signal: NodeJS.Signals, exitCode = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() => process.exit(exitCode));
}

const migrate = spawn(process.execPath, [...tsx, path.join(root, 'scripts/migrate.ts')], { cwd: root, stdio: 'inherit' });
migrate.on('exit', (code) => {
  if (code !== 0) process.exit(code ?? 1);
  // First run: prints a key for tenant 'default' when no key exists yet.
  const bootstrap = spawn(process.execPath, [...tsx, path.join(root, 'scripts/keys.ts'), 'bootstrap'], { cwd: root, stdio: 'inherit' });
  bootstrap.on('exit', (status) => {
    if (status !== 0) process.exit(status ?? 1);
    children = [run('api', 'src/api/server.ts'), run('worker', 'src/worker/main.ts'), run('webhooks', 'src/worker/webhooks-main.ts')];
  });
});
process.once('SIGINT', () => stop('SIGTERM'));
process.once('SIGTERM', () => stop('SIGTERM'));
