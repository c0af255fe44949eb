import { Type, type Static } from 'typebox';
import { JobDocumentSchema } from '../queue/job-document.js';
import type { Job } from './prisma.js';
import { EngineInfoSchema } from './model.schema.js';
import { Nullable } from './registry.schema.js';
import { readStoredJson } from './stored-json.js';

/**
 * Schemas of the JSON columns of `jobs` (and of `job_events.data` for state
 * changes), checked when a row is read (`readJobRow`), so the code past the
 * repository gets typed values.
 */

/** The parts of `jobs.plan` (the model's plan at submission) that are read back; the per-layer plan is kept, not looked at. */
export const StoredPlanSummarySchema = Type.Object({
  totalParams: Type.Integer(),
  trainableParams: Type.Integer(),
  macs: Type.Integer(),
  outputShape: Type.Array(Type.Integer()),
});

/** `jobs.split`: examples in each part of the seeded, stratified split; null until the worker has split the data. */
export const StoredSplitSchema = Type.Object({ train: Type.Integer(), validation: Type.Integer(), test: Type.Integer(), seed: Type.Integer() });

/** `job_events.data` of a state event: the new status, with what the transition recorded (attempt, reason, error...). */
export const StateEventDataSchema = Type.Object({ status: Type.String() }, { additionalProperties: true });
export type StateEventData = Static<typeof StateEventDataSchema>;

/** A job as the repository hands it out: its JSON columns checked and typed. */
export type StoredJob = Omit<Job, 'spec' | 'plan' | 'engine' | 'split'> & {
  spec: Static<typeof JobDocumentSchema>;
  plan: Static<typeof StoredPlanSummarySchema>;
  engine: Static<typeof EngineInfoSchema> | null;
  split: Static<typeof StoredSplitSchema> | null;
};

export function readJobDocument(value: unknown, jobId: string): StoredJob['spec'] {
  return readStoredJson(JobDocumentSchema, value, `spec of job ${jobId}`);
}

export function readJobRow<R extends Job>(row: R): Omit<R, 'spec' | 'plan' | 'engine' | 'split'> & StoredJob {
  return {
    ...row,
    spec: readJobDocument(row.spec, row.id),
    plan: readStoredJson(StoredPlanSummarySchema, row.plan, `plan of job ${row.id}`),
    engine: readStoredJson(Nullable(EngineInfoSchema), row.engine, `engine of job ${row.id}`),
    split: readStoredJson(Nullable(StoredSplitSchema), row.split, `split of job ${row.id}`),
  };
}
