/**
 * The life of one sandbox process (a child that BullMQ forks and reuses
 * for job after job): what a job left behind in it, and retiring it when
 * its memory can no longer be trusted.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmHeapBytes } from '../engine/wasm-heap.js';
import { collectGarbage } from '../infra/collect-garbage.js';
import { isWasmAbort } from './out-of-memory.js';
import { TrainingError } from './training-error.js';
import type { TrainOutcome } from './trainer.js';

/** The sandbox process as a job left it; returned with every finished job (BullMQ `returnvalue`). */
export interface SandboxStats {
  pid: number;
  /** Jobs this process has started, this one included. */
  jobs: number;
  /** `tf.memory().numTensors` when the job started and after it finished: equal unless the job leaked tensors. */
  numTensorsBefore: number;
  numTensors: number;
  /** Bytes still held by tensors after the job. */
  tensorBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** wasm engine: size of its heap, which grows to the largest need so far and never shrinks. */
  wasmHeapBytes: number | null;
  /** CPU time (user + system) of this process during the job, and the job's wall time, in ms. */
  cpuMs: number;
  wallMs: number;
}

/** What a finished job returns to the worker (BullMQ `returnvalue`): the outcome, and this process as the job left it. */
export type TrainResult = TrainOutcome & { sandbox: SandboxStats };

let jobsStarted = 0;
let retiring = false;

/** Call when a job starts; `finish()` when it has returned. */
export function watchJob(): { finish(): SandboxStats } {
  jobsStarted++;
  const numTensorsBefore = tf.memory().numTensors;
  const cpu = process.cpuUsage();
  const started = performance.now();
  return {
    finish() {
      const used = process.cpuUsage(cpu);
      const memory = tf.memory();
      collectGarbage();
      const usage = process.memoryUsage();
      return {
        pid: process.pid,
        jobs: jobsStarted,
        numTensorsBefore,
        numTensors: memory.numTensors,
        tensorBytes: memory.numBytes,
        rssBytes: usage.rss,
        heapUsedBytes: usage.heapUsed,
        wasmHeapBytes: wasmHeapBytes(),
        cpuMs: Math.round((used.user + used.system) / 1000),
        wallMs: Math.round(performance.now() - started),
      };
    },
  };
}

/**
 * After running out of memory the wasm heap stays at its largest size (it
 * never shrinks) and a failed kernel may have left blocks allocated; after
 * an abort the module is dead. Either way the next job must not run here.
 */
export function mustRetire(err: unknown): boolean {
  return (err instanceof TrainingError && err.code === 'out-of-memory') || isWasmAbort(err);
}

/** True once this process is on its way out: a job that still reaches it must be handed back. */
export function isRetiring(): boolean {
  return retiring;
}

const EXIT_DELAY_MS = 100;

/**
 * Exits this process once BullMQ has reported the current job's failure to
 * the worker; the worker then forks a fresh sandbox for the next job.
 * BullMQ sends that report right after the processor rejects, in the same
 * tick. A message sent after it is written after it, so its callback says
 * both are out; the short delay lets the worker read them before it sees
 * the exit (an exit seen first would count as a crash of the job).
 */
export function retireAfterReply(): void {
  if (retiring) return;
  retiring = true;
  setImmediate(() => {
    const exit = () => setTimeout(() => process.exit(0), EXIT_DELAY_MS);
    if (!process.send || !process.connected) return exit();
    process.send({ cmd: 'trainyard:retiring', pid: process.pid }, exit);
  });
}
