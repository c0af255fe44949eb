import type { Worker } from 'bullmq';

/**
 * The one place that reaches into BullMQ beyond its public API.
 *
 * BullMQ offers no way to start a Worker's sandbox processes ahead of jobs,
 * nor to tell whether a sandbox handed back to its pool is still running a
 * job (it is handed back as soon as the parent side of a job ends; see
 * TrainWorker.guardSandboxes). Both need the Worker's private `childPool`
 * (class ChildPool: retain, release, kill) and the Child handles it holds
 * (send, on('message'), pid). Checked against the bullmq version pinned
 * exactly in package.json; test/unit/bullmq-internals.test.ts fails when an
 * upgrade changes any of it, so the upgrade has to revisit this file.
 * Without the pool, workers still run: jobs start their own sandboxes and a
 * busy sandbox is not guarded (the worker logs a warning at start).
 */

/** What this code uses of BullMQ's private ChildPool. */
export interface SandboxPool {
  retain(processFile: string): Promise<unknown>;
  release(child: unknown): void;
  kill(child: unknown, signal?: NodeJS.Signals): Promise<void>;
}

/** What this code uses of BullMQ's sandbox process handle (its Child class). */
export interface SandboxChild {
  pid?: number;
  send(msg: { cmd: number }): Promise<void>;
  on(event: 'message', listener: (msg: { cmd?: number }) => void): unknown;
}

/** The worker's pool of sandbox processes, or null if this BullMQ has none of that shape (or the worker is not sandboxed). */
export function sandboxPoolOf(worker: Worker): SandboxPool | null {
  const pool = (worker as unknown as { childPool?: Partial<SandboxPool> }).childPool;
  if (typeof pool?.retain !== 'function' || typeof pool.release !== 'function' || typeof pool.kill !== 'function') return null;
  return pool as SandboxPool;
}
