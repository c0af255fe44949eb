import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdParamsSchema, PageQuerySchema, problems } from '../../schemas/common.schema.js';
import { NotFoundError, ProblemError } from '../../errors/index.js';
import { findModel, listModels } from '../../../storage/models.repository.js';
import { MODEL_JSON, WEIGHTS_BIN } from '../../../storage/model-artifacts.js';
import type { StoredModel } from '../../../storage/model.schema.js';
import { outputRows } from '../../../predict/serving.js';
import { predictInstances } from '../../services/predict.service.js';
import { byteRangeOf } from '../../services/byte-range.js';
import { ModelListSchema, ModelSchema, PredictBodySchema, PredictResponseSchema } from './models.schema.js';

function toModelView(m: StoredModel) {
  const self = `/v1/models/${m.id}`;
  return {
    id: m.id,
    jobId: m.jobId,
    name: m.name,
    inputShape: m.inputShape,
    numClasses: m.numClasses,
    classNames: m.classNames,
    metrics: m.metrics,
    preprocessing: m.preprocessing,
    spec: m.spec,
    engine: m.engine,
    sizeBytes: m.sizeBytes,
    createdAt: m.createdAt.toISOString(),
    links: { self, job: `/v1/jobs/${m.jobId}`, predict: `${self}/predict`, artifact: `${self}/artifact` },
  };
}

const modelsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, artifacts, serving, served, config } = app.services;

  async function getModel(tenantId: string, id: string): Promise<StoredModel> {
    const model = await findModel(db, tenantId, id);
    if (!model) throw new NotFoundError('model', id);
    return model;
  }

  app.get(
    '/v1/models',
    {
      schema: {
        tags: ['models'],
        operationId: 'listModels',
        summary: 'List trained models, newest first',
        querystring: PageQuerySchema,
        response: { 200: ModelListSchema, ...problems(400) },
      },
    },
    async (request) => {
      const { items, nextCursor } = await listModels(db, request.tenantId, request.query);
      return { items: items.map(toModelView), nextCursor };
    },
  );

  app.get(
    '/v1/models/:id',
    { schema: { tags: ['models'], operationId: 'getModel', summary: 'Describe a trained model', params: IdParamsSchema, response: { 200: ModelSchema, ...problems(400, 404) } } },
    async (request) => toModelView(await getModel(request.tenantId, request.params.id)),
  );

  app.get(
    '/v1/models/:id/artifact',
    {
      schema: {
        tags: ['models'],
        operationId: 'getModelArtifact',
        summary: 'Download the model (redirects to its model.json)',
        description:
          'The model is stored in the TensorFlow.js layers format: `artifact/model.json` and `artifact/weights.bin`. ' +
          '`tf.loadLayersModel("<base>/v1/models/<id>/artifact/model.json")` loads it directly.',
        params: IdParamsSchema,
        response: { 302: Type.Null({ description: 'Location: the model.json URL.' }), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const model = await getModel(request.tenantId, request.params.id);
      return reply.redirect(`/v1/models/${model.id}/artifact/${MODEL_JSON}`, 302);
    },
  );

  for (const file of [MODEL_JSON, WEIGHTS_BIN]) {
    app.get(
      `/v1/models/:id/artifact/${file}`,
      {
        schema: {
          tags: ['models'],
          operationId: file === MODEL_JSON ? 'getModelArtifactJson' : 'getModelArtifactWeights',
          summary: file === MODEL_JSON ? 'Model topology and weights manifest (tfjs layers format)' : 'Model weights (float32, little-endian)',
          description: 'Streamed from the artifact store. A `Range: bytes=<start>-<end>` header asks for part of the file (206 with Content-Range), e.g. to resume a download.',
          params: IdParamsSchema,
          headers: Type.Object({ range: Type.Optional(Type.String({ description: 'One byte range, e.g. bytes=0-1023 or bytes=-512.' })) }),
          produces: [file === MODEL_JSON ? 'application/json' : 'application/octet-stream'],
          response: {
            200: Type.Unknown({ description: file }),
            206: Type.Unknown({ description: `The requested bytes of ${file}; Content-Range says which.` }),
            ...problems(400, 404, 416),
          },
        },
      },
      async (request, reply) => {
        const model = await getModel(request.tenantId, request.params.id);
        const stored = await artifacts.open(model.artifactKey, file);
        if (!stored) throw new NotFoundError('artifact file', `${model.id}/${file}`);
        const range = byteRangeOf(request.headers.range, stored.size);
        if (range.kind === 'unsatisfiable') {
          reply.header('content-range', `bytes */${stored.size}`);
          throw new ProblemError(416, 'range-not-satisfiable', 'Range Not Satisfiable', `${file} has ${stored.size} bytes; the Range header asks for none of them`, {
            size: stored.size,
          });
        }
        reply
          .type(file === MODEL_JSON ? 'application/json' : 'application/octet-stream')
          .header('content-disposition', `attachment; filename="${file}"`)
          .header('accept-ranges', 'bytes');
        if (range.kind === 'part') {
          reply
            .code(206)
            .header('content-range', `bytes ${range.start}-${range.end}/${stored.size}`)
            .header('content-length', range.end - range.start + 1);
        } else {
          reply.header('content-length', stored.size);
        }
        // HEAD wants the headers only: no bytes are read from the store. (Fastify's HEAD route keeps our
        // content-length for a stream, which it drains, but sets 0 for no payload: hence an empty stream.)
        if (request.method === 'HEAD') return reply.send(Readable.from([]));
        // Streamed: a large model never sits whole in the API's memory.
        return reply.send(await stored.read(range.kind === 'part' ? range : undefined));
      },
    );
  }

  app.post(
    '/v1/models/:id/predict',
    {
      schema: {
        tags: ['models'],
        operationId: 'predictModel',
        summary: 'Classify instances with a trained model',
        description: `Up to ${config.PREDICT_MAX_INSTANCES} instances per request. The model is loaded once and kept in memory.`,
        params: IdParamsSchema,
        body: PredictBodySchema,
        response: { 200: PredictResponseSchema, ...problems(400, 404, 413, 429) },
      },
      config: { rateLimit: { max: config.RATE_LIMIT_PREDICT, timeWindow: '1 minute' } },
    },
    async (request) => {
      const model = await served.byId(request.tenantId, request.params.id);
      if (!model) throw new NotFoundError('model', request.params.id);
      const predictions = outputRows(await predictInstances(serving, config, model, request.body.instances));
      const classes = predictions.map((row) => row.indexOf(Math.max(...row)));
      return { modelId: model.model.id, predictions, classes, labels: classes.map((c) => model.model.classNames[c] ?? String(c)) };
    },
  );
};

export default modelsRoutes;
