import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { problems } from '../../schemas/common.schema.js';
import { ConflictError, NotFoundError, ProblemError } from '../../errors/index.js';
import { BUILTIN_DATASETS, datasetInfoOf, resolveDataset, type DatasetInfo } from '../../../data/datasets.js';
import * as repo from '../../../storage/datasets.repository.js';
import { uploadDataset } from '../../services/datasets.service.js';
import { receiveUpload } from './receive-upload.js';
import { DatasetParamsSchema, DatasetSchema, UploadFormSchema } from './datasets.schema.js';

function view(info: DatasetInfo, row?: repo.DatasetRow) {
  return {
    id: info.id,
    name: info.name,
    description: info.description,
    builtin: info.builtin,
    format: info.format,
    examples: info.examples,
    inputShape: info.inputShape,
    numClasses: info.numClasses,
    classNames: info.classNames,
    perClassCounts: info.stats?.perClassCounts ?? null,
    valueRange: info.valueRange,
    mean: info.stats?.mean ?? null,
    std: info.stats?.std ?? null,
    dtype: info.dtype,
    image: info.image,
    sizeBytes: info.sizeBytes,
    uploadBytes: row?.uploadBytes ?? null,
    contentHash: row?.contentHash ?? null,
    createdAt: info.createdAt,
  };
}

const datasetsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, artifacts, config, compute } = app.services;
  await app.register(multipart, { limits: { fileSize: config.DATASET_MAX_BYTES, files: 2, fields: 10, fieldSize: 4096, parts: 12 } });

  app.post(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        operationId: 'uploadDataset',
        summary: 'Upload a dataset (multipart/form-data)',
        description:
          'Formats: `idx` (parts `images` and `labels`, raw or gzipped), `csv` (part `file`, option `labelColumn`), ' +
          '`npy` (parts `x` and `y`), `images` (part `file`: a zip with one folder per class of PNG/JPEG images; options ' +
          '`width`, `height`, `channels`). Files are streamed to disk, validated and parsed; a broken file is a 400 that ' +
          'says what is wrong, and nothing is stored. The same content uploaded again returns the existing dataset (200).',
        consumes: ['multipart/form-data'],
        body: UploadFormSchema,
        response: { 200: DatasetSchema, 201: DatasetSchema, ...problems(400, 413, 415, 422) },
      },
      // The form is streamed and checked by the service; ajv never sees a multipart body.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new ProblemError(
          415,
          'unsupported-media-type',
          'Unsupported Media Type',
          'upload datasets as multipart/form-data with a `format` field and the file parts of that format',
        );
      }
      const upload = await receiveUpload(request, config.DATASET_MAX_BYTES);
      const { row, created } = await uploadDataset({ db, artifacts, config, compute }, request.tenantId, upload).finally(upload.discard);
      return reply
        .status(created ? 201 : 200)
        .header('location', `/v1/datasets/${row.id}`)
        .send(view(datasetInfoOf(row), row));
    },
  );

  app.get(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        operationId: 'listDatasets',
        summary: 'List datasets: the built-in ones and your uploads',
        response: { 200: Type.Object({ items: Type.Array(DatasetSchema) }) },
      },
    },
    async (request) => {
      const rows = await repo.listDatasets(db, request.tenantId);
      return { items: [...BUILTIN_DATASETS.map((d) => view(d)), ...rows.map((r) => view(datasetInfoOf(r), r))] };
    },
  );

  app.get(
    '/v1/datasets/:id',
    {
      schema: {
        tags: ['datasets'],
        operationId: 'getDataset',
        summary: 'Describe a dataset, with statistics and a preview of its first examples',
        params: DatasetParamsSchema,
        response: { 200: DatasetSchema, ...problems(400, 404) },
      },
    },
    async (request) => {
      const info = await resolveDataset(db, request.tenantId, request.params.id);
      if (!info) throw new NotFoundError('dataset', request.params.id);
      const row = info.builtin ? undefined : ((await repo.findDataset(db, request.tenantId, info.id)) ?? undefined);
      // Reading examples and drawing thumbnails is a compute thread's work.
      const preview = await compute.run({ kind: 'dataset-preview', info, storageKey: row?.storageKey ?? null });
      if (!preview.ok) throw new Error(preview.message);
      return { ...view(info, row), preview: preview.value };
    },
  );

  app.delete(
    '/v1/datasets/:id',
    {
      schema: {
        tags: ['datasets'],
        operationId: 'deleteDataset',
        summary: 'Delete an uploaded dataset',
        description: 'Refused (409) while a queued or running job uses it. Models trained on it are kept.',
        params: DatasetParamsSchema,
        response: { 204: Type.Null(), ...problems(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const row = await repo.findDataset(db, request.tenantId, request.params.id);
      if (!row) {
        if (BUILTIN_DATASETS.some((d) => d.id === request.params.id))
          throw new ConflictError('builtin-dataset', `dataset '${request.params.id}' is built in and cannot be deleted`);
        throw new NotFoundError('dataset', request.params.id);
      }
      const users = await repo.activeJobsUsing(db, request.tenantId, row.id);
      if (users.length > 0) {
        throw new ConflictError(
          'dataset-in-use',
          `dataset ${row.id} is used by ${users.length === 5 ? 'at least 5' : users.length} queued or running job(s) (${users.map((u) => u.id).join(', ')}); cancel them or wait`,
          {
            jobIds: users.map((u) => u.id),
          },
        );
      }
      await repo.deleteDataset(db, request.tenantId, row.id);
      await artifacts.remove(row.storageKey);
      return reply.status(204).send(null);
    },
  );
};

export default datasetsRoutes;
