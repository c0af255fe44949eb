import type { AppConfig } from '../../config/config.js';
import type { Quotas } from '../../config/quotas.js';
import { resolveDataset, type DatasetInfo } from '../../data/datasets.js';
import { canonicalJson } from '../../infra/canonical-json.js';
import { formatCount, normalizeTrainingSpec, planModel, resolveModelSpec, SpecError, type ModelPlan, type ModelSpec, type TrainingSpec } from '../../model-spec/index.js';
import {
  ASHA_DEFAULTS,
  MAX_SWEEP_TRIALS,
  MEDIAN_DEFAULTS,
  SWEEP_DOCUMENT_VERSION,
  type SweepDimension,
  type SweepDocument,
  type SweepEarlyStopping,
} from '../../queue/sweep-document.js';
import type { TrainQueue } from '../../queue/train-queue.js';
import { countQueuedJobs } from '../../storage/jobs.repository.js';
import { storedModelBytes } from '../../storage/models.repository.js';
import type { Db } from '../../storage/prisma.js';
import { tenantQuotas } from '../../storage/quotas.repository.js';
import type { StoredSweep } from '../../storage/sweep.schema.js';
import { bestTrialSummary, trialObjective, trialProgress } from '../../storage/sweep-trials.js';
import * as sweepsRepo from '../../storage/sweeps.repository.js';
import { gridSize } from '../../sweep/samplers.js';
import {
  checkDistribution,
  combinations,
  cornerValues,
  describeParams,
  isDiscrete,
  kindOf,
  parseSpacePath,
  pathPointer,
  probeValues,
  SweepSpaceError,
  type TrialParams,
} from '../../sweep/space.js';
import { paramsKnownInAdvance } from '../../sweep/suggest.js';
import { advanceSweep } from '../../sweep/sweep-controller.js';
import { TrialSpecError, trialDocument } from '../../sweep/trial-document.js';
import { ConflictError, InvalidRequestError, ProblemError, QuotaExceededError } from '../errors/index.js';
import { specErrorExtensions } from '../plugins/app/error-handler.js';
import { submitIdempotently, type IdempotentSubmission, type SubmissionKey } from './idempotency.js';
import { pointerToField } from '../plugins/app/validation.js';
import { DEFAULT_MAX_TRIALS, DEFAULT_PARALLELISM, DEFAULT_SWEEP_SEED, type SubmitSweepBody, type SweepView } from '../routes/sweeps/sweeps.schema.js';
import { checkJobSizeQuotas, checkModelAgainstDataset } from './jobs.service.js';

export interface SweepsDeps {
  db: Db;
  queue: TrainQueue;
  config: AppConfig;
}

/** Corner combinations of one side of TPE's space (model fields, or training fields) checked at submission, at most. */
export const MAX_CHECKED_CORNERS = 256;

/** Where a trial came from, for messages: "trial 3 (training.learningRate=0.01)". */
type Candidate = { label: string; params: TrialParams; blame?: string };

/** A SpecError of the base job: a 400 naming the field under `base`. */
function baseSpec<T>(part: 'model' | 'training', fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SpecError) throw new ProblemError(400, 'invalid-spec', 'Invalid Model Spec', `base.${part}: ${err.message}`, specErrorExtensions(err, `base.${part}`));
    throw err;
  }
}

/** The searched path a problem at `pointer` of `part` concerns: the path itself, or one inside it. */
function pathAt(params: TrialParams, part: 'model' | 'training', pointer: string): string | undefined {
  return Object.keys(params).find((path) => {
    if (!path.startsWith(`${part}.`) && !path.startsWith(`${part}[`)) return false;
    const own = pathPointer(path);
    return pointer === own || pointer.startsWith(`${own}/`);
  });
}

/** Turns a trial's problem into the answer, naming the searched path at fault when there is one, else the base field. */
function trialProblem(err: unknown, candidate: Candidate): never {
  if (err instanceof SweepSpaceError) throw new InvalidRequestError(err.message, [{ field: `space.${err.path}`, message: err.message }], 'invalid-space');
  if (err instanceof TrialSpecError) {
    const pointer = err.specError.path ?? '';
    const path = candidate.blame ?? pathAt(candidate.params, err.part, pointer);
    const field = path ? `space.${path}` : pointerToField(pointer, `base.${err.part}`);
    const detail = `${candidate.label}: ${err.message}`;
    throw new ProblemError(400, 'invalid-spec', 'Invalid Model Spec', detail, { errors: [{ field, message: detail }] });
  }
  if (err instanceof ProblemError) {
    const errors = err.extensions.errors as { field: string; message: string }[] | undefined;
    const detail = `${candidate.label}: ${err.message}`;
    throw new ProblemError(err.status, err.code, err.title, detail, {
      ...err.extensions,
      ...(errors
        ? { errors: errors.map((e) => ({ field: candidate.blame ? `space.${candidate.blame}` : `base.${e.field}`, message: `${candidate.label}: ${e.message}` })) }
        : candidate.blame
          ? { errors: [{ field: `space.${candidate.blame}`, message: detail }] }
          : {}),
    });
  }
  throw err;
}

interface CheckContext {
  tenantId: string;
  base: SweepDocument['base'];
  metric: SweepDocument['objective']['metric'];
  dataset: DatasetInfo | null;
  quotas: Quotas;
  limits: { maxParams: number; maxMacs: number };
  /** Plans by model (canonical JSON): trials that differ only in training share one. */
  plans: Map<string, ModelPlan>;
}

/** Builds, plans and checks one trial as POST /v1/jobs would its job: spec, dataset, size quotas, and a validation set for a val* objective. */
function checkCandidate(ctx: CheckContext, candidate: Candidate): void {
  try {
    const { doc, plan } = trialDocument(ctx.base, candidate.params, ctx.limits, ctx.plans);
    const trainExamples = checkModelAgainstDataset({ model: doc.model, dataset: doc.dataset } as Parameters<typeof checkModelAgainstDataset>[0], ctx.dataset, plan, doc.training);
    checkJobSizeQuotas(ctx.quotas, ctx.tenantId, plan, doc.training.epochs, trainExamples);
    if (ctx.metric.startsWith('val') && doc.training.validationSplit === 0) {
      throw new InvalidRequestError(`objective.metric '${ctx.metric}' is measured on the validation set, but training.validationSplit is 0`, [
        { field: 'training.validationSplit', message: `must be above 0 for objective '${ctx.metric}'` },
      ]);
    }
  } catch (err) {
    trialProblem(err, candidate);
  }
}

/** The space as stored: paths in alphabetical order, each checked for syntax, overlap and its distribution's own rules. */
function parseSpace(space: SubmitSweepBody['space']): SweepDimension[] {
  const dims = Object.keys(space)
    .sort()
    .map((path) => ({ path, distribution: space[path] }));
  for (const { path, distribution } of dims) {
    try {
      parseSpacePath(path);
      checkDistribution(path, distribution);
    } catch (err) {
      if (err instanceof SweepSpaceError) throw new InvalidRequestError(err.message, [{ field: `space.${path}`, message: err.message }], 'invalid-space');
      throw err;
    }
  }
  for (const a of dims) {
    const inner = dims.find((b) => b !== a && pathPointer(b.path).startsWith(`${pathPointer(a.path)}/`) && b.path.split(/[.[]/)[0] === a.path.split(/[.[]/)[0]);
    if (inner) {
      const message = `space.${inner.path} lies inside space.${a.path}: search one or the other, or search the inner field and fix the rest of ${a.path} in base`;
      throw new InvalidRequestError(message, [{ field: `space.${inner.path}`, message }], 'invalid-space');
    }
  }
  return dims;
}

function normalizeEarlyStopping(body: SubmitSweepBody['earlyStopping']): SweepEarlyStopping | null {
  if (!body) return null;
  const refuse = (field: string, message: string) => {
    throw new InvalidRequestError(`earlyStopping.${field} ${message}`, [{ field: `earlyStopping.${field}`, message }]);
  };
  if (body.type === 'asha') {
    if (body.minTrials !== undefined) refuse('minTrials', "belongs to type 'median'; asha takes minEpochs and reductionFactor");
    return { type: 'asha', minEpochs: body.minEpochs ?? ASHA_DEFAULTS.minEpochs, reductionFactor: body.reductionFactor ?? ASHA_DEFAULTS.reductionFactor };
  }
  if (body.reductionFactor !== undefined) refuse('reductionFactor', "belongs to type 'asha'; median takes minEpochs and minTrials");
  return { type: 'median', minEpochs: body.minEpochs ?? MEDIAN_DEFAULTS.minEpochs, minTrials: body.minTrials ?? MEDIAN_DEFAULTS.minTrials };
}

/** How many trials run: the budget asked for, a grid's size at most (and by default). */
function trialBudget(body: SubmitSweepBody, space: SweepDimension[]): number {
  if (body.algorithm !== 'grid') return body.maxTrials ?? DEFAULT_MAX_TRIALS;
  for (const { path, distribution } of space) {
    if (!isDiscrete(distribution)) {
      const message = `grid search lists every value, but space.${path} is ${kindOf(distribution)}; give it {"values": [...]} or {"intUniform": [low, high]}, or use algorithm 'random' or 'tpe'`;
      throw new InvalidRequestError(message, [{ field: `space.${path}`, message }], 'invalid-space');
    }
  }
  const size = gridSize(space);
  if (body.maxTrials === undefined && size > MAX_SWEEP_TRIALS) {
    const message = `the grid has ${Number.isFinite(size) ? formatCount(size) : 'more than 2^53'} points, more than the ${MAX_SWEEP_TRIALS} trials a sweep may run; list fewer values, or set maxTrials to run the first ones`;
    throw new InvalidRequestError(message, [{ field: 'maxTrials', message }]);
  }
  return Math.min(body.maxTrials ?? size, size);
}

/**
 * TPE's later trials are chosen as it learns, so they are checked through
 * the corners of the space: every combination of the extremes of the model
 * fields (with the training fields at their first corner), and of the
 * training fields (with the model fields at theirs). Sizes and shapes grow
 * or shrink monotonically with each field, so a trial inside the box passes
 * when its corners do.
 */
function tpeCorners(space: SweepDimension[]): Candidate[] {
  const sides = (['model', 'training'] as const).map((root) => space.filter((d) => parseSpacePath(d.path).root === root));
  const firsts = Object.fromEntries(space.map((d) => [d.path, cornerValues(d.distribution)[0]]));
  return sides.flatMap((side, i) => {
    if (side.length === 0) return [];
    const combos = combinations(side, cornerValues, MAX_CHECKED_CORNERS);
    if (!combos) {
      const what = i === 0 ? 'model' : 'training';
      const message =
        `algorithm 'tpe' checks every combination of the extreme values of the ${what} fields searched before anything runs, at most ` +
        `${MAX_CHECKED_CORNERS}; these have more: search fewer ${what} fields or list fewer values, or use 'random' (whose trials are all checked)`;
      throw new InvalidRequestError(message, [{ field: 'space', message }], 'invalid-space');
    }
    return combos.map((combo) => {
      const params = { ...firsts, ...combo };
      return { label: `the corner of the space (${describeParams(params)})`, params };
    });
  });
}

/** Lets the event loop answer other requests between batches of planning. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Checks a sweep as a whole before anything runs, stores it and lets the
 * controller create its first trials. Order of checks: the base job on its
 * own, each path of the space with each value it can take, the algorithm
 * and budget, then every trial whose parameters are known now (all of them
 * for grid and random; TPE's random start and the corners of its space)
 * planned and checked against the dataset and the tenant's quotas.
 */
export async function submitSweep(deps: SweepsDeps, tenantId: string, body: SubmitSweepBody, idempotencyKey?: string): Promise<IdempotentSubmission<StoredSweep>> {
  const submission = await submitIdempotently(
    { kind: 'sweep', key: idempotencyKey, body, findByKey: (key) => sweepsRepo.findSweepByIdempotencyKey(deps.db, tenantId, key) },
    (keyed) => createCheckedSweep(deps, tenantId, body, keyed),
  );
  // Creates and queues the first trials; were this process to stop first, a worker's reconcile loop would. A replay has had its step.
  if (!submission.replayed) await advanceSweep(deps, submission.resource.id);
  return submission;
}

/** The checks of `submitSweep`, then the sweep stored (running, no trials yet) with its idempotency key and body hash. */
async function createCheckedSweep(deps: SweepsDeps, tenantId: string, body: SubmitSweepBody, keyed: SubmissionKey): Promise<StoredSweep> {
  const { db, config } = deps;
  const limits = { maxParams: config.MAX_MODEL_PARAMS, maxMacs: config.MAX_MODEL_MACS };
  const model = baseSpec('model', () => resolveModelSpec(body.base.model));
  const training: TrainingSpec = body.base.training ?? {};
  const basePlan = baseSpec('model', () => planModel(model, limits));
  if (basePlan.limits.exceeded.length > 0) {
    throw new InvalidRequestError(
      `base.model is too large to train here: ${basePlan.limits.exceeded.join('; ')}`,
      basePlan.limits.exceeded.map((message) => ({ field: 'base.model', message })),
      'model-too-large',
    );
  }
  baseSpec('training', () => normalizeTrainingSpec(training, model));
  const base: SweepDocument['base'] = { model: model as ModelSpec, training, dataset: body.base.dataset };

  const space = parseSpace(body.space);
  const metric = body.objective.metric;
  const ctx: CheckContext = {
    tenantId,
    base,
    metric,
    dataset: await resolveDataset(db, tenantId, body.base.dataset.id),
    quotas: await tenantQuotas(db, config, tenantId),
    limits,
    plans: new Map([[canonicalJson(model), basePlan]]),
  };
  checkCandidate(ctx, { label: 'base', params: {} });
  // Each path alone, with each value it can take: a mistake is named by its path.
  for (const { path, distribution } of space) {
    for (const value of probeValues(distribution)) {
      const shown = canonicalJson(value);
      checkCandidate(ctx, { label: `space.${path} = ${shown.length > 40 ? `${shown.slice(0, 37)}...` : shown}`, params: { [path]: value }, blame: path });
    }
  }

  const maxTrials = trialBudget(body, space);
  const doc: SweepDocument = {
    version: SWEEP_DOCUMENT_VERSION,
    base,
    space,
    algorithm: body.algorithm,
    objective: { metric, goal: body.objective.goal ?? (metric.endsWith('ccuracy') ? 'maximize' : 'minimize') },
    maxTrials,
    parallelism: Math.min(body.parallelism ?? DEFAULT_PARALLELISM, maxTrials),
    seed: body.seed ?? DEFAULT_SWEEP_SEED,
    earlyStopping: normalizeEarlyStopping(body.earlyStopping),
  };
  const candidates: Candidate[] = paramsKnownInAdvance(doc).map((params, i) => ({ label: `trial ${i} (${describeParams(params)})`, params }));
  if (doc.algorithm === 'tpe') candidates.push(...tpeCorners(space));
  for (let i = 0; i < candidates.length; i++) {
    if (i % 25 === 24) await breathe();
    checkCandidate(ctx, candidates[i]);
  }

  const queued = await countQueuedJobs(db, tenantId);
  const first = Math.min(doc.parallelism, maxTrials);
  if (queued + first > ctx.quotas.queuedJobs) {
    throw new QuotaExceededError(
      'queuedJobs',
      ctx.quotas.queuedJobs,
      queued,
      `tenant '${tenantId}' has ${formatCount(queued)} queued jobs and the sweep would queue ${first} more, past its limit of ${formatCount(ctx.quotas.queuedJobs)}; ` +
        'wait for some to start, cancel some, or lower parallelism',
      429,
    );
  }
  const stored = await storedModelBytes(db, tenantId);
  if (stored >= ctx.quotas.artifactBytes) {
    throw new QuotaExceededError(
      'artifactBytes',
      ctx.quotas.artifactBytes,
      stored,
      `tenant '${tenantId}' stores ${formatCount(stored)} bytes of trained models, its limit of ${formatCount(ctx.quotas.artifactBytes)}; delete models to train more`,
    );
  }

  return sweepsRepo.createSweep(db, { tenantId, name: body.name ?? null, spec: doc, queueName: config.QUEUE_NAME, ...keyed });
}

/** Cancels a running sweep and its unfinished trials; again is harmless; a sweep that ended otherwise is a conflict. null: not found. */
export async function cancelSweep(deps: SweepsDeps, tenantId: string, id: string): Promise<StoredSweep | null> {
  const marked = await sweepsRepo.markSweepCancelled(deps.db, tenantId, id);
  if (!marked) return null;
  if (!marked.changed && marked.sweep.status !== 'cancelled') {
    throw new ConflictError('sweep-finished', `sweep ${id} has already ${marked.sweep.status}; only a running sweep can be cancelled`, { sweepStatus: marked.sweep.status });
  }
  // Cancels the trials (queued ones at once, running ones after their batch); the workers' loop finishes what this does not.
  await advanceSweep(deps, id);
  return marked.sweep;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The view of a sweep; `detail` adds every trial and the base job (GET one, submission, cancel). */
export function toSweepView(sweep: StoredSweep, trials: sweepsRepo.TrialRow[], { detail, baseUrl = '' }: { detail: boolean; baseUrl?: string }): SweepView {
  const doc = sweep.spec;
  const { metric } = doc.objective;
  const self = `${baseUrl}/v1/sweeps/${sweep.id}`;
  return {
    id: sweep.id,
    name: sweep.name,
    status: sweep.status,
    algorithm: doc.algorithm,
    objective: doc.objective,
    space: Object.fromEntries(doc.space.map((d) => [d.path, d.distribution])),
    maxTrials: doc.maxTrials,
    parallelism: doc.parallelism,
    seed: doc.seed,
    earlyStopping: doc.earlyStopping,
    ...(detail ? { base: doc.base } : {}),
    progress: trialProgress(trials),
    ...(detail
      ? {
          trials: trials.map((t) => ({
            index: t.index,
            jobId: t.jobId,
            params: t.params,
            status: t.job.status,
            objective: trialObjective(t, metric),
            epochs: t.last?.epoch ?? 0,
            stopReason: t.job.stopReason,
            attempts: t.job.attempts,
            error: t.job.errorCode ? { code: t.job.errorCode, message: t.job.errorMessage ?? '' } : null,
          })),
        }
      : {}),
    best: bestTrialSummary(trials, doc.objective),
    error: sweep.errorCode ? { code: sweep.errorCode, message: sweep.errorMessage ?? '' } : null,
    createdAt: sweep.createdAt.toISOString(),
    updatedAt: sweep.updatedAt.toISOString(),
    finishedAt: iso(sweep.finishedAt),
    links: { self, events: `${self}/events`, cancel: `${self}/cancel`, jobs: `${baseUrl}/v1/jobs?sweepId=${sweep.id}` },
  };
}
