import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { planModel, resolveModelSpec, SpecError } from '../../../model-spec/index.js';
import { ProblemError } from '../../errors/index.js';
import { specErrorExtensions } from '../../plugins/app/error-handler.js';
import { problems } from '../../schemas/common.schema.js';
import { ModelPlanSchema, PlanBodySchema } from './plan.schema.js';

const planRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app.services;

  app.post(
    '/v1/plan',
    {
      schema: {
        operationId: 'planModel',
        tags: ['plan'],
        summary: 'Plan a model without training it',
        description:
          'Takes the same `model` object as POST /v1/jobs (compact spec or `{"keras": ...}`), bare or as `{"model": ...}`, and answers, per layer, the output shape, parameter count and ' +
          'multiply-accumulates by TensorFlow rules (SAME: ceil(in / S); VALID: ceil((in − F + 1) / S)), plus totals and ' +
          'whether the model fits the limits of this server.',
        body: PlanBodySchema,
        response: { 200: ModelPlanSchema, ...problems(400, 413, 415) },
      },
    },
    async (request) => {
      const body = request.body;
      const limits = { maxParams: config.MAX_MODEL_PARAMS, maxMacs: config.MAX_MODEL_MACS };
      if (!('model' in body)) return planModel(resolveModelSpec(body), limits);
      try {
        return planModel(resolveModelSpec(body.model), limits);
      } catch (err) {
        // Located in the body as sent, as POST /v1/jobs does: `model.layers[0].kernelSize`.
        if (err instanceof SpecError) throw new ProblemError(400, 'invalid-spec', 'Invalid Model Spec', err.message, specErrorExtensions(err, 'model'));
        throw err;
      }
    },
  );
};

export default planRoutes;
