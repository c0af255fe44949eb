import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * PyTorch on one thread (Debian's python3-torch), run as a child process by
 * the train bench: bench/pytorch-seed.py trains and predicts the seed net
 * or times torch.mm. Absent where the package is not installed.
 */
const SCRIPT = fileURLToPath(new URL('./pytorch-seed.py', import.meta.url));
/** Debian's interpreter: python3-torch installs for it, not for a pyenv or venv python. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** One thread in every pool PyTorch may use (OpenMP, OpenBLAS, MKL); passive waits on a shared machine. */
const ONE_THREAD = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' };

export type PyTorchLayout = 'nchw' | 'channels_last';

export interface PyTorchSeedRun {
  torch: string;
  threads: number;
  trainMs: number[];
  predictMs: number[];
}

/** Why PyTorch cannot run here, or null when it can. */
export function pytorchUnavailable(python = DEBIAN_PYTHON): string | null {
  if (!existsSync(python)) return `${python} is missing`;
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', env: { ...process.env, ...ONE_THREAD } });
  if (probe.status !== 0) return `python3-torch is not installed for ${python} (apt-get install -y python3-torch libopenblas0-openmp)`;
  return null;
}

function run(python: string, args: string[]): Record<string, unknown>[] {
  const child = spawnSync(python, [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ...ONE_THREAD }, maxBuffer: 16 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`${python} ${SCRIPT} failed (exit ${child.status}): ${child.stderr.trim().split('\n').at(-1)}`);
  return child.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Trains, then predicts, the seed net in a fresh PyTorch process. */
export function runPyTorchSeed(options: { python?: string; layout: PyTorchLayout; batchSize: number; warmup: number; batches: number; maxSeconds: number }): PyTorchSeedRun {
  const lines = run(options.python ?? DEBIAN_PYTHON, [
    '--layout',
    options.layout,
    '--batch-size',
    String(options.batchSize),
    '--predict-batch-size',
    String(options.batchSize),
    '--warmup',
    String(options.warmup),
    '--batches',
    String(options.batches),
    '--max-seconds',
    String(options.maxSeconds),
  ]);
  const info = lines.find((l) => l.kind === 'info') ?? {};
  const train = lines.find((l) => l.kind === 'train');
  const predict = lines.find((l) => l.kind === 'predict');
  if (!train || !predict) throw new Error('pytorch-seed.py printed no train or predict figures');
  return { torch: String(info.torch), threads: Number(info.threads), trainMs: train.msPerBatch as number[], predictMs: predict.msPerBatch as number[] };
}

/** torch.mm GFLOP/s at each size, best of five, one thread. */
export function pytorchSgemmGflops(sizes: number[], python = DEBIAN_PYTHON): Map<number, number> {
  const lines = run(python, ['--sgemm', ...sizes.map(String)]);
  return new Map(lines.filter((l) => l.kind === 'sgemm').map((l) => [Number(l.n), Number(l.gflops)]));
}
