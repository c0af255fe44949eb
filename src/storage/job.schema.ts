import { Type, type Static } from 'typebox';
import { LAYER_TYPES } from '../model-spec/layer-spec.schema.js';
import type { ModelPlan } from '../model-spec/planner.js';
import { JobDocumentSchema, LegacyJobDocumentSchema, type SameType, type StoredJobDocument } from '../queue/job-document.js';
import type { Job } from './prisma.js';
import { EngineInfoSchema } from './model.schema.js';
import { Nullable } from './registry.schema.js';
import { readStoredJson, StoredJsonError } from './stored-json.js';

/**
 * Schemas of the JSON columns of `jobs` (and of `job_events.data` for state
 * changes), checked when a row is read (`readJobRow`), so the code past the
 * repository gets typed values.
 */

const LayerPlanFields = {
  index: Type.Integer(),
  name: Type.String(),
  type: Type.Enum(LAYER_TYPES),
  inputShape: Type.Array(Type.Integer()),
  outputShape: Type.Array(Type.Integer()),
  params: Type.Integer(),
  trainableParams: Type.Integer(),
  nonTrainableParams: Type.Integer(),
  macs: Type.Integer(),
  paramsWithoutSharing: Type.Optional(Type.Integer()),
};

/**
 * `jobs.plan`: the planner's output for the stored model, computed once at
 * submission; the API shows its totals, the worker sizes an out-of-memory
 * report with its layers. Inception branches hold branch layers, which
 * have no branches of their own.
 */
export const StoredPlanSchema = Type.Object({
  version: Type.Literal(1),
  inputShape: Type.Array(Type.Integer()),
  outputShape: Type.Array(Type.Integer()),
  layers: Type.Array(Type.Object({ ...LayerPlanFields, branches: Type.Optional(Type.Array(Type.Array(Type.Object(LayerPlanFields)))) })),
  totalParams: Type.Integer(),
  trainableParams: Type.Integer(),
  nonTrainableParams: Type.Integer(),
  macs: Type.Integer(),
  weightBytes: Type.Integer(),
  limits: Type.Object({ maxParams: Type.Number(), maxMacs: Type.Number(), exceeded: Type.Array(Type.String()) }),
});
export type StoredPlan = Static<typeof StoredPlanSchema>;

// What the planner returns is what is stored and read back.
true satisfies SameType<StoredPlan, ModelPlan>;

/**
 * The totals of `jobs.plan` that the API shows. Rows read for the API are
 * checked against these alone: checking every layer of every listed job would
 * cost the event loop for fields it never reads. The worker reads the whole plan.
 */
export const StoredPlanSummarySchema = Type.Pick(StoredPlanSchema, ['totalParams', 'trainableParams', 'macs', 'outputShape']);

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
  /** Absent from events written before the rate was recorded. */
  learningRate: Type.Optional(Nullable(Type.Number())),
  createdAt: Type.String(),
});

/** An event of a job's stream, its data checked by its type (the only two types the repository writes). */
export type StoredJobEvent = { id: bigint; createdAt: Date } & ({ type: 'state'; data: StateEventData } | { type: 'metrics'; data: Static<typeof MetricsEventDataSchema> });

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
  spec: StoredJobDocument;
  plan: Static<typeof StoredPlanSummarySchema>;
  engine: Static<typeof EngineInfoSchema> | null;
  split: Static<typeof StoredSplitSchema> | null;
};

/**
 * `jobs.spec`: the current job document, or one written before documents had
 * a `version` (see LegacyJobDocumentSchema); each is checked against its own
 * schema, so a mismatch names the field at fault.
 */
export function readJobDocument(value: unknown, jobId: string): StoredJobDocument {
  const what = `spec of job ${jobId}`;
  const versioned = value !== null && typeof value === 'object' && 'version' in value;
  return versioned ? readStoredJson(JobDocumentSchema, value, what) : readStoredJson(LegacyJobDocumentSchema, value, what);
}

export function readJobPlan(value: unknown, jobId: string): StoredPlan {
  return readStoredJson(StoredPlanSchema, value, `plan of job ${jobId}`);
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
