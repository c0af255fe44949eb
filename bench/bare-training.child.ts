/**
 * One bare training process for bench:scale: prepares (engine, dataset
 * parsed), says 'ready', trains when told to run, reports and exits. The
 * parent starts all of them at once so that their epochs overlap, and
 * lets them exit once it has read their CPU time.
 */
import { selectEngine, type EngineName } from '../src/engine/select-engine.js';
import { loadBareDataset, trainBare, type BareTrainingOptions } from './bare-training.js';

export type BareChildOptions = BareTrainingOptions & { engine: EngineName };
export type BareChildMessage = { type: 'ready' } | { type: 'result'; result: Awaited<ReturnType<typeof trainBare>> } | { type: 'error'; message: string };

const send = (message: BareChildMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

const options = JSON.parse(process.env.BARE_TRAINING_OPTIONS ?? 'null') as BareChildOptions | null;
if (!options || !process.send) {
  console.error('bare-training.child: run by bench/scale.bench.ts (needs BARE_TRAINING_OPTIONS and an IPC channel)');
  process.exit(2);
}
process.on('disconnect', () => process.exit(1));

try {
  await selectEngine(options.engine);
  await loadBareDataset(options.dataset);
  await send({ type: 'ready' });
  await new Promise((resolve) => process.once('message', resolve));
  await send({ type: 'result', result: await trainBare(options) });
  // Stay until the parent has read our CPU time (an exited process's is gone).
  await new Promise((resolve) => process.once('message', resolve));
} catch (err) {
  await send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
process.exit(0);
