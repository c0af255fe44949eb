import { Type, type Static } from 'typebox';
import { JobDocumentSchema } from '../queue/job-document.js';
import type { Job } from './prisma.js';
import { EngineInfoSchema } from './model.schema.js';
import { Nullable } from './registry.schema.js';
import { readStoredJson, StoredJsonError } from './stored-json.js';

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

/**
 * `job_events.data` of a metrics event: the finished epoch's row. Numbers may be
 * null: JSON stores a NaN or infinite value (a diverged loss) as null.
 */
export const MetricsEventDataSchema = Type.Object({
  epoch: Type.Integer(),
  loss: Nullable(Type.Number()),
  accuracy: Nullable(Type.Number()),
  valLoss: Nullable(Type.Number()),
  valAccuracy: Nullable(Type.Number()),
  durationMs: Nullable(Type.Number()),
  samplesPerSec: Nullable(Type.Number()),
  createdAt: Type.String(),
});

/** An event of a job's stream, its data checked by its type (the only two types the repository writes). */
export type StoredJobEvent = { id: bigint; createdAt: Date } & (
  | { type: 'state'; data: StateEventData }
  | { type: 'metrics'; data: Static<typeof MetricsEventDataSchema> }
);

export function readJobEvent(e: { id: bigint; jobId: string; type: string; data: unknown; createdAt: Date }): StoredJobEvent {
  const what = `data of event ${e.id} of job ${e.jobId}`;
  switch (e.type) {
    case 'state':
      return { id: e.id, createdAt: e.createdAt, type: 'state', data: readStoredJson(StateEventDataSchema, e.data, what) };
    case 'metrics':
      return { id: e.id, createdAt: e.createdAt, type: 'metrics', data: readStoredJson(MetricsEventDataSchema, e.data, what) };
    default:
      throw new StoredJsonError(`type of event ${e.id} of job ${e.jobId}`, `unknown type '${e.type}'`);
  }
}

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
