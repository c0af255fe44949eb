import { createRequire } from 'node:module';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { InvalidRequestError } from '../../errors/index.js';
import { protocolErrors, useProtocolErrors } from '../../plugins/app/protocol-errors.js';
import { checkPostgres } from '../../services/health-checks.js';
import { INPUT_NAME, OUTPUT_NAME, predictInstances, servedByName, signatureOf } from '../../services/predict.service.js';
import type { ServedModel, VersionSelector } from '../../services/served-models.js';
import { InferRequestSchema, InferResponseSchema, ModelMetadataSchema, ModelParamsSchema, ModelReadySchema, ServerMetadataSchema, VersionParamsSchema } from './kserve.schema.js';

const TAG = 'kserve';
const PLATFORM = 'tensorflowjs_layers';
const { version: SERVER_VERSION } = createRequire(import.meta.url)('../../../../package.json') as { version: string };

function versionSelector(version: string): VersionSelector {
  if (!/^\d{1,10}$/.test(version) || Number(version) < 1 || Number(version) > 2 ** 31 - 1) {
    throw new InvalidRequestError(`model version '${version}' is not a version number (a whole number from 1)`, [{ field: 'version', message: 'a whole number from 1' }]);
  }
  return { version: Number(version) };
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * One input tensor to instances: its shape must be [batch, ...input shape]
 * or [batch, features], and its data (flat or nested, row-major) must hold
 * exactly that many numbers.
 */
function instancesOf(request: Static<typeof InferRequestSchema>, model: ServedModel): { instances: unknown[]; path: string } {
  const { inputShape } = model.model;
  const expected = [-1, ...inputShape];
  if (request.inputs.length !== 1) {
    throw new InvalidRequestError(`inputs has ${request.inputs.length} tensors; this model has one input, '${INPUT_NAME}' ${shapeText(expected)}`, [
      { field: 'inputs', message: 'exactly one tensor' },
    ]);
  }
  const input = request.inputs[0];
  if (input.name !== INPUT_NAME) {
    throw new InvalidRequestError(`unexpected inference input '${input.name}' for model '${model.name}'; its one input is '${INPUT_NAME}'`, [
      { field: 'inputs[0].name', message: `'${INPUT_NAME}'` },
    ]);
  }
  if (input.datatype === 'BYTES' || input.datatype === 'BOOL') {
    throw new InvalidRequestError(`input '${INPUT_NAME}' has datatype ${input.datatype}; this model takes numbers: FP32 (or another numeric datatype)`, [
      { field: 'inputs[0].datatype', message: 'a numeric datatype, e.g. FP32' },
    ]);
  }
  const size = inputShape.reduce((a, b) => a * b, 1);
  const [batch, ...rest] = input.shape;
  const fits = rest.length === inputShape.length ? rest.every((d, i) => d === inputShape[i]) : rest.length === 1 && rest[0] === size;
  if (!fits || batch < 1) {
    throw new InvalidRequestError(
      `input '${INPUT_NAME}' has shape ${shapeText(input.shape)}; model '${model.name}' takes ${shapeText(expected)} (or ${shapeText([-1, size])}), with a batch of at least 1`,
      [{ field: 'inputs[0].shape', message: `${shapeText(expected)} or ${shapeText([-1, size])}` }],
    );
  }
  const data = input.data.some(Array.isArray) ? (input.data.flat(Infinity) as unknown[]) : input.data;
  if (data.length !== batch * size) {
    throw new InvalidRequestError(`input '${INPUT_NAME}' has ${data.length} values in data; its shape ${shapeText(input.shape)} needs ${batch * size}`, [
      { field: 'inputs[0].data', message: `${batch * size} values` },
    ]);
  }
  const instances = Array.from({ length: batch }, (_, i) => data.slice(i * size, (i + 1) * size));
  return { instances, path: 'inputs[0].data' };
}

function metadataOf(name: string, versions: ServedModel[], model: ServedModel) {
  const sig = signatureOf(model.model);
  return {
    name,
    versions: versions.map((v) => String(v.version)),
    platform: PLATFORM,
    inputs: [{ name: sig.input.name, datatype: 'FP32', shape: sig.input.shape }],
    outputs: [{ name: sig.output.name, datatype: 'FP32', shape: sig.output.shape }],
  };
}

/**
 * The Open Inference Protocol (KServe v2) over the model registry: health,
 * server and model metadata, model readiness and inference, so that KServe
 * and Triton clients work unchanged. Health and server metadata are open;
 * model routes need an API key. Errors are `{"error": "..."}`. Registered
 * under the prefix /v2.
 */
const kserveRoutes: FastifyPluginAsyncTypebox = async (app) => {
  useProtocolErrors(app);
  const { served, serving, config, db } = app.services;

  app.get('', { schema: { tags: [TAG], operationId: 'kserveServerMetadata', summary: 'Server metadata', security: [], response: { 200: ServerMetadataSchema } } }, async () => ({
    name: 'trainyard',
    version: SERVER_VERSION,
    extensions: [],
  }));
  app.get(
    '/health/live',
    { schema: { tags: [TAG], operationId: 'kserveServerLive', summary: 'Server liveness', security: [], response: { 200: Type.Object({ live: Type.Boolean() }) } } },
    async () => ({
      live: true,
    }),
  );
  app.get(
    '/health/ready',
    {
      schema: {
        tags: [TAG],
        operationId: 'kserveServerReady',
        summary: 'Server readiness: the model store (PostgreSQL) answers',
        description: 'As the protocol says: 200 when ready, a 4xx (400) when not.',
        security: [],
        response: { 200: Type.Object({ ready: Type.Boolean() }), 400: Type.Object({ ready: Type.Boolean() }) },
      },
    },
    async (_request, reply) => {
      const { ok } = await checkPostgres(db);
      return reply.status(ok ? 200 : 400).send({ ready: ok });
    },
  );

  const errors = protocolErrors(400, 401, 404);
  async function metadata(tenantId: string, name: string, selector: VersionSelector) {
    const model = await servedByName(served, tenantId, name, selector);
    const versions = selector.version === undefined ? ((await served.versions(tenantId, name)) ?? []) : [model];
    return metadataOf(name, versions, model);
  }
  app.get(
    '/models/:name',
    {
      schema: {
        tags: [TAG],
        operationId: 'kserveModelMetadata',
        summary: 'Model metadata (latest version; `versions` lists all)',
        params: ModelParamsSchema,
        response: { 200: ModelMetadataSchema, ...errors },
      },
    },
    async (request) => metadata(request.tenantId, request.params.name, {}),
  );
  app.get(
    '/models/:name/versions/:version',
    {
      schema: {
        tags: [TAG],
        operationId: 'kserveModelVersionMetadata',
        summary: 'Metadata of a model version',
        params: VersionParamsSchema,
        response: { 200: ModelMetadataSchema, ...errors },
      },
    },
    async (request) => metadata(request.tenantId, request.params.name, versionSelector(request.params.version)),
  );

  // A registered version is always servable: its artifact loads on the first request.
  app.get(
    '/models/:name/ready',
    { schema: { tags: [TAG], operationId: 'kserveModelReady', summary: 'Model readiness', params: ModelParamsSchema, response: { 200: ModelReadySchema, ...errors } } },
    async (request) => {
      await servedByName(served, request.tenantId, request.params.name, {});
      return { name: request.params.name, ready: true };
    },
  );
  app.get(
    '/models/:name/versions/:version/ready',
    {
      schema: {
        tags: [TAG],
        operationId: 'kserveModelVersionReady',
        summary: 'Readiness of a model version',
        params: VersionParamsSchema,
        response: { 200: ModelReadySchema, ...errors },
      },
    },
    async (request) => {
      await servedByName(served, request.tenantId, request.params.name, versionSelector(request.params.version));
      return { name: request.params.name, ready: true };
    },
  );

  async function infer(tenantId: string, name: string, selector: VersionSelector, body: Static<typeof InferRequestSchema>) {
    const model = await servedByName(served, tenantId, name, selector);
    for (const [i, o] of (body.outputs ?? []).entries()) {
      if (o.name !== OUTPUT_NAME) {
        throw new InvalidRequestError(`unexpected inference output '${o.name}' for model '${name}'; its one output is '${OUTPUT_NAME}'`, [
          { field: `outputs[${i}].name`, message: `'${OUTPUT_NAME}'` },
        ]);
      }
    }
    const { instances, path } = instancesOf(body, model);
    const result = await predictInstances(serving, config, model, instances, path);
    return {
      model_name: name,
      model_version: String(model.version),
      ...(body.id !== undefined ? { id: body.id } : {}),
      outputs: [{ name: OUTPUT_NAME, shape: [result.count, result.outputSize], datatype: 'FP32', data: Array.from(result.output) }],
    };
  }
  const inferSchema = {
    tags: [TAG],
    description: 'Open Inference Protocol inference: one FP32 input tensor `input` [batch, ...input shape]; the output `probabilities` is [batch, classes].',
    body: InferRequestSchema,
    response: { 200: InferResponseSchema, ...protocolErrors(400, 401, 404, 413, 429) },
  };
  const rateLimit = { rateLimit: { max: config.RATE_LIMIT_PREDICT, timeWindow: '1 minute' } };
  app.post(
    '/models/:name/infer',
    { schema: { ...inferSchema, operationId: 'kserveInfer', summary: 'Infer with the latest version', params: ModelParamsSchema }, config: rateLimit },
    async (request) => infer(request.tenantId, request.params.name, {}, request.body),
  );
  app.post(
    '/models/:name/versions/:version/infer',
    { schema: { ...inferSchema, operationId: 'kserveInferVersion', summary: 'Infer with a model version', params: VersionParamsSchema }, config: rateLimit },
    async (request) => infer(request.tenantId, request.params.name, versionSelector(request.params.version), request.body),
  );
};

export default kserveRoutes;
