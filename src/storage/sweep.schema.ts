import { Type, type Static } from 'typebox';
import { SweepDocumentSchema } from '../queue/sweep-document.js';
import type { Sweep } from './prisma.js';
import { readStoredJson } from './stored-json.js';

/** `sweep_trials.params`: the value of each searched path. */
export const TrialParamsSchema = Type.Record(Type.String(), Type.Unknown());
export type StoredTrialParams = Static<typeof TrialParamsSchema>;

/** A sweep as the repository hands it out: its definition checked and typed. */
export type StoredSweep = Omit<Sweep, 'spec'> & { spec: Static<typeof SweepDocumentSchema> };

export function readSweepRow(row: Sweep): StoredSweep {
  return { ...row, spec: readStoredJson(SweepDocumentSchema, row.spec, `spec of sweep ${row.id}`) };
}

export function readTrialParams(value: unknown, sweepId: string, index: number): StoredTrialParams {
  return readStoredJson(TrialParamsSchema, value, `params of trial ${index} of sweep ${sweepId}`);
}
