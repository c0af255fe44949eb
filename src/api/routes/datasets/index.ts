import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problems } from '../../schemas/common.schema.js';
import { NotFoundError } from '../../errors/index.js';
import { findDataset, listDatasets } from '../../../data/datasets.js';

const DatasetSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    builtin: Type.Boolean(),
    inputShape: Type.Array(Type.Integer()),
    numClasses: Type.Integer(),
    classNames: Type.Array(Type.String()),
    examples: Type.Integer(),
    valueRange: Type.Array(Type.Number()),
  },
  { title: 'Dataset' },
);

const datasetsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/datasets',
    { schema: { tags: ['datasets'], summary: 'List datasets jobs can train on', response: { 200: Type.Object({ items: Type.Array(DatasetSchema) }) } } },
    async () => ({ items: [...listDatasets()] }),
  );

  app.get(
    '/v1/datasets/:id',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Describe a dataset',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
        response: { 200: DatasetSchema, ...problems(404) },
      },
    },
    async (request) => {
      const dataset = findDataset(request.params.id);
      if (!dataset) throw new NotFoundError('dataset', request.params.id);
      return dataset;
    },
  );
};

export default datasetsRoutes;
