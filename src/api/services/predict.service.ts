import type { AppConfig } from '../../config/config.js';
import { InstanceError } from '../../predict/preprocess.js';
import type { Serving, ServingResult } from '../../predict/serving.js';
import type { TrainedModel } from '../../storage/prisma.js';
import { InvalidRequestError, ProblemError } from '../errors/index.js';
import type { ServedModel, ServedModels, VersionSelector } from './served-models.js';

/** Names of the one input and one output every Trainyard model has, in the serving protocols' metadata. */
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'probabilities';

/** The model's signature as the protocols describe it: -1 is the batch dimension. */
export function signatureOf(model: Pick<TrainedModel, 'inputShape' | 'numClasses'>) {
  return {
    input: { name: INPUT_NAME, shape: [-1, ...model.inputShape] },
    output: { name: OUTPUT_NAME, shape: [-1, model.numClasses] },
  };
}

/** How a request named its model, for messages. */
export function describeSelector(name: string, selector: VersionSelector): string {
  if (selector.version !== undefined) return `model '${name}' version ${selector.version}`;
  if (selector.alias !== undefined) return `model '${name}' with alias '${selector.alias}'`;
  return `model '${name}' (latest version)`;
}

export function notRegistered(name: string, selector: VersionSelector): ProblemError {
  return new ProblemError(404, 'not-found', 'Not Found', `${describeSelector(name, selector)} is not registered for this API key's tenant; see GET /v1/registered-models`, {
    resource: 'registered model',
    id: name,
  });
}

export async function servedByName(served: ServedModels, tenantId: string, name: string, selector: VersionSelector): Promise<ServedModel> {
  const found = await served.byName(tenantId, name, selector);
  if (!found) throw notRegistered(name, selector);
  return found;
}

/**
 * Runs `instances` through a served model for any protocol: the request
 * size limit, then serving (batched, off the event loop); an instance that
 * does not fit is a 400 naming it.
 */
export async function predictInstances(serving: Serving, config: AppConfig, model: ServedModel, instances: unknown[], path = 'instances'): Promise<ServingResult> {
  if (instances.length > config.PREDICT_MAX_INSTANCES) {
    throw new InvalidRequestError(`${path} has ${instances.length} items; at most ${config.PREDICT_MAX_INSTANCES} are accepted per request`, [
      { field: path, message: `at most ${config.PREDICT_MAX_INSTANCES} items` },
    ]);
  }
  try {
    return await serving.predict(model.servable, instances, path);
  } catch (err) {
    if (err instanceof InstanceError) throw new InvalidRequestError(err.message, [{ field: err.field, message: err.message }]);
    throw err;
  }
}
