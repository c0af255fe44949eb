import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { INCEPTION_EXAMPLE_MODEL, SEED_MNIST_MODEL, planModel, resolveModelSpec } from '../../../spec/index.js';
import { ModelInputSchema } from '../jobs/jobs.schema.js';
import { problems } from '../../schemas/common.schema.js';
import { ModelPlanSchema } from './plan.schema.js';

// Swagger's "Try it out" starts from these: the lesson's MNIST network and a GoogLeNet-style inception module.
const PlanBodySchema = { ...ModelInputSchema, examples: [SEED_MNIST_MODEL, INCEPTION_EXAMPLE_MODEL] };

const planRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app.services;

  app.post(
    '/v1/plan',
    {
      schema: {
        tags: ['plan'],
        summary: 'Plan a model without training it',
        description:
          'Takes the same `model` object as POST /v1/jobs (compact spec or `{"keras": ...}`) and answers, per layer, the output shape, parameter count and ' +
          'multiply-accumulates by TensorFlow rules (SAME: ceil(in / S); VALID: ceil((in − F + 1) / S)), plus totals and ' +
          'whether the model fits the limits of this server.',
        body: PlanBodySchema,
        response: { 200: ModelPlanSchema, ...problems(400, 413, 415) },
      },
    },
    async (request) => planModel(resolveModelSpec(request.body), { maxParams: config.MAX_MODEL_PARAMS, maxMacs: config.MAX_MODEL_MACS }),
  );
};

export default planRoutes;
