import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { InvalidRequestError } from '../../errors/index.js';
import { protocolErrors, useProtocolErrors } from '../../plugins/app/protocol-errors.js';
import { INPUT_NAME, notRegistered, OUTPUT_NAME, predictInstances, servedByName, signatureOf } from '../../services/predict.service.js';
import type { ServedModel, VersionSelector } from '../../services/served-models.js';
import { outputRows } from '../../../predict/serving.js';
import {
  LabelParamsSchema,
  ModelMetadataSchema,
  ModelStatusSchema,
  NameParamsSchema,
  TfPredictBodySchema,
  TfPredictResponseSchema,
  VersionParamsSchema,
} from './tfserving.schema.js';

const SIGNATURE = 'serving_default';
const TAG = 'tfserving';

/** TF Serving asks for a numeric version and says so when it is not. */
function versionSelector(version: string): VersionSelector {
  if (!/^\d{1,10}$/.test(version) || Number(version) < 1 || Number(version) > 2 ** 31 - 1) {
    throw new InvalidRequestError(`Failed to convert version: ${version} to numeric: a version is a whole number from 1`, [{ field: 'version', message: 'a whole number from 1' }]);
  }
  return { version: Number(version) };
}

/**
 * Turns a TF Serving request into instances: the row format lists them
 * (`{"input": x}` names the one input), the columnar format gives the batch
 * as one tensor (or `{"input": tensor}`).
 */
function instancesOf(body: { instances?: unknown[]; inputs?: unknown; signature_name?: string }): { instances: unknown[]; path: string; columnar: boolean } {
  if (body.signature_name !== undefined && body.signature_name !== SIGNATURE) {
    throw new InvalidRequestError(`Serving signature name: "${body.signature_name}" not found in signature def; the only signature is "${SIGNATURE}"`, [
      { field: 'signature_name', message: `only "${SIGNATURE}"` },
    ]);
  }
  if ((body.instances === undefined) === (body.inputs === undefined)) {
    throw new InvalidRequestError('send exactly one of "instances" (row format) and "inputs" (columnar format)', [
      { field: 'instances', message: 'exactly one of instances and inputs' },
    ]);
  }
  if (body.instances) {
    const instances = body.instances.map((instance, i) => {
      if (instance === null || typeof instance !== 'object' || Array.isArray(instance) || 'b64' in instance) return instance;
      const keys = Object.keys(instance);
      if (keys.length === 1 && keys[0] === INPUT_NAME) return (instance as Record<string, unknown>)[INPUT_NAME];
      throw new InvalidRequestError(`instances[${i}] names the inputs ${keys.map((k) => `'${k}'`).join(', ')}; this model has one input, '${INPUT_NAME}'`, [
        { field: `instances[${i}]`, message: `one input, '${INPUT_NAME}'` },
      ]);
    });
    return { instances, path: 'instances', columnar: false };
  }
  let inputs = body.inputs;
  let path = 'inputs';
  if (inputs !== null && typeof inputs === 'object' && !Array.isArray(inputs)) {
    const keys = Object.keys(inputs);
    if (keys.length !== 1 || keys[0] !== INPUT_NAME) {
      throw new InvalidRequestError(`inputs names ${keys.length ? keys.map((k) => `'${k}'`).join(', ') : 'no input'}; this model has one input, '${INPUT_NAME}'`, [
        { field: 'inputs', message: `one input, '${INPUT_NAME}'` },
      ]);
    }
    inputs = (inputs as Record<string, unknown>)[INPUT_NAME];
    path = `inputs.${INPUT_NAME}`;
  }
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new InvalidRequestError(`${path} must be a non-empty list of instances (the first dimension is the batch)`, [{ field: path, message: 'a non-empty list' }]);
  }
  return { instances: inputs, path, columnar: true };
}

function statusOf(versions: ServedModel[]) {
  return {
    model_version_status: versions.map((v) => ({ version: String(v.version), state: 'AVAILABLE' as const, status: { error_code: 'OK', error_message: '' } })).reverse(),
  };
}

function tensorInfo(shape: number[], name: string) {
  return { dtype: 'DT_FLOAT', tensor_shape: { dim: shape.map((size) => ({ size: String(size), name: '' })), unknown_rank: false }, name };
}

function metadataOf(found: ServedModel) {
  const sig = signatureOf(found.model);
  return {
    model_spec: { name: found.name ?? '', signature_name: '', version: String(found.version) },
    metadata: {
      signature_def: {
        signature_def: {
          [SIGNATURE]: {
            inputs: { [INPUT_NAME]: tensorInfo(sig.input.shape, `${SIGNATURE}_${INPUT_NAME}:0`) },
            outputs: { [OUTPUT_NAME]: tensorInfo(sig.output.shape, `${OUTPUT_NAME}:0`) },
            method_name: 'tensorflow/serving/predict',
          },
        },
      },
    },
  };
}

/**
 * TF Serving's REST API over the model registry, so that a TF Serving client
 * pointed at `<base>/tfserving` works unchanged: predict (row and columnar
 * formats), model status and metadata, by latest version, version number or
 * label (alias). Errors are `{"error": "..."}`, as TF Serving sends them.
 * Registered under the prefix /tfserving.
 */
const tfservingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  useProtocolErrors(app);
  const { served, serving, config } = app.services;
  const predictDescription =
    'TF Serving predict. Row format `{"instances": [...]}` answers `{"predictions": [...]}`; columnar `{"inputs": ...}` answers ' +
    '`{"outputs": ...}`. Predictions are class probabilities. Needs an API key, like /v1.';
  const predictSchema = {
    tags: [TAG],
    description: predictDescription,
    body: TfPredictBodySchema,
    response: { 200: TfPredictResponseSchema, ...protocolErrors(400, 401, 404, 413, 429) },
  };
  const rateLimit = { rateLimit: { max: config.RATE_LIMIT_PREDICT, timeWindow: '1 minute' } };

  async function predict(tenantId: string, name: string, selector: VersionSelector, body: Parameters<typeof instancesOf>[0]) {
    const { instances, path, columnar } = instancesOf(body);
    const found = await servedByName(served, tenantId, name, selector);
    const rows = outputRows(await predictInstances(serving, config, found, instances, path));
    return columnar ? { outputs: rows } : { predictions: rows };
  }

  app.post(
    '/v1/models/:name(^[^:/]+)::predict',
    { schema: { ...predictSchema, operationId: 'tfservingPredict', summary: 'Predict with the latest version', params: NameParamsSchema }, config: rateLimit },
    async (request) => predict(request.tenantId, request.params.name, {}, request.body),
  );
  app.post(
    '/v1/models/:name/versions/:version(^[^:/]+)::predict',
    { schema: { ...predictSchema, operationId: 'tfservingPredictVersion', summary: 'Predict with a version', params: VersionParamsSchema }, config: rateLimit },
    async (request) => predict(request.tenantId, request.params.name, versionSelector(request.params.version), request.body),
  );
  app.post(
    '/v1/models/:name/labels/:label(^[^:/]+)::predict',
    { schema: { ...predictSchema, operationId: 'tfservingPredictLabel', summary: 'Predict with a labelled version', params: LabelParamsSchema }, config: rateLimit },
    async (request) => predict(request.tenantId, request.params.name, { alias: request.params.label }, request.body),
  );

  const statusSchema = { tags: [TAG], response: { 200: ModelStatusSchema, ...protocolErrors(400, 401, 404) } };
  app.get(
    '/v1/models/:name',
    { schema: { ...statusSchema, operationId: 'tfservingGetModelStatus', summary: 'Model status: every version, AVAILABLE', params: NameParamsSchema } },
    async (request) => {
      const versions = await served.versions(request.tenantId, request.params.name);
      if (!versions || versions.length === 0) throw notRegistered(request.params.name, {});
      return statusOf(versions);
    },
  );
  app.get(
    '/v1/models/:name/versions/:version',
    { schema: { ...statusSchema, operationId: 'tfservingGetVersionStatus', summary: 'Status of one version', params: VersionParamsSchema } },
    async (request) => statusOf([await servedByName(served, request.tenantId, request.params.name, versionSelector(request.params.version))]),
  );
  app.get(
    '/v1/models/:name/labels/:label',
    { schema: { ...statusSchema, operationId: 'tfservingGetLabelStatus', summary: 'Status of a labelled version', params: LabelParamsSchema } },
    async (request) => statusOf([await servedByName(served, request.tenantId, request.params.name, { alias: request.params.label })]),
  );

  const metadataSchema = { tags: [TAG], response: { 200: ModelMetadataSchema, ...protocolErrors(400, 401, 404) } };
  app.get(
    '/v1/models/:name/metadata',
    { schema: { ...metadataSchema, operationId: 'tfservingGetModelMetadata', summary: 'Signature of the latest version', params: NameParamsSchema } },
    async (request) => metadataOf(await servedByName(served, request.tenantId, request.params.name, {})),
  );
  app.get(
    '/v1/models/:name/versions/:version/metadata',
    { schema: { ...metadataSchema, operationId: 'tfservingGetVersionMetadata', summary: 'Signature of a version', params: VersionParamsSchema } },
    async (request) => metadataOf(await servedByName(served, request.tenantId, request.params.name, versionSelector(request.params.version))),
  );
  app.get(
    '/v1/models/:name/labels/:label/metadata',
    { schema: { ...metadataSchema, operationId: 'tfservingGetLabelMetadata', summary: 'Signature of a labelled version', params: LabelParamsSchema } },
    async (request) => metadataOf(await servedByName(served, request.tenantId, request.params.name, { alias: request.params.label })),
  );
};

export default tfservingRoutes;
