import { canonicalJson } from '../infra/canonical-json.js';
import { normalizeTrainingSpec, planModel, SpecError, type ModelPlan, type ModelSpec, type PlanLimits, type TrainingSpec } from '../model-spec/index.js';
import { JOB_DOCUMENT_VERSION, type JobDocument } from '../queue/job-document.js';
import type { SweepDocument } from '../queue/sweep-document.js';
import { applyParams, type TrialParams } from './space.js';

/** A trial's model or training that the spec language refuses; `specError.path` points into `part`. */
export class TrialSpecError extends Error {
  constructor(
    readonly part: 'model' | 'training',
    readonly specError: SpecError,
  ) {
    super(specError.message);
    this.name = 'TrialSpecError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * The job document of a trial, as POST /v1/jobs would store it: the base
 * with the trial's parameters set, the model planned, training normalised
 * (defaults that depend on the model, such as the loss, follow the trial's
 * model). Throws TrialSpecError for what the spec language refuses and
 * SweepSpaceError for a path the base does not have. `plans`, when given,
 * caches plans by model across calls.
 */
export function trialDocument(base: SweepDocument['base'], params: TrialParams, limits: PlanLimits, plans?: Map<string, ModelPlan>): { doc: JobDocument; plan: ModelPlan } {
  const { model, training } = applyParams<ModelSpec, TrainingSpec>(base, params);
  // Trials that differ only in training share a plan: `plans` keeps them by model.
  const key = plans && canonicalJson(model);
  const plan = (key && plans.get(key)) || inPart('model', () => planModel(model, limits));
  if (key) plans.set(key, plan);
  if (plan.limits.exceeded.length > 0) {
    throw new TrialSpecError('model', new SpecError(`the model is too large to train here: ${plan.limits.exceeded.join('; ')}`, { path: '' }));
  }
  const normalized = inPart('training', () => normalizeTrainingSpec(training, model));
  return { doc: { version: JOB_DOCUMENT_VERSION, model, training: normalized, dataset: base.dataset }, plan };
}

function inPart<T>(part: 'model' | 'training', fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SpecError) throw new TrialSpecError(part, err);
    throw err;
  }
}
