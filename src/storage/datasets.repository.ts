import { Type, type Static } from 'typebox';
import { DatasetStatsSchema } from '../data/parsers/dataset.js';
import type { Db, Prisma } from './prisma.js';
import { UNFINISHED_STATUSES } from './jobs.repository.js';
import { readStoredJson } from './stored-json.js';

/** `datasets.options`: the upload's form options that shaped the parse (CSV label column, image size and channels). */
export const DatasetOptionsSchema = Type.Object({
  labelColumn: Type.Optional(Type.String()),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  channels: Type.Optional(Type.Integer()),
});

type Row = Awaited<ReturnType<Db['dataset']['findFirstOrThrow']>>;
/** An uploaded dataset's row, its JSON columns (`stats`, `options`) checked. */
export type DatasetRow = Omit<Row, 'stats' | 'options'> & {
  stats: Static<typeof DatasetStatsSchema>;
  options: Static<typeof DatasetOptionsSchema>;
};

function readDatasetRow(row: Row): DatasetRow {
  return {
    ...row,
    stats: readStoredJson(DatasetStatsSchema, row.stats, `stats of dataset ${row.id}`),
    options: readStoredJson(DatasetOptionsSchema, row.options, `options of dataset ${row.id}`),
  };
}

export async function findDataset(db: Db, tenantId: string, id: string): Promise<DatasetRow | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const row = await db.dataset.findFirst({ where: { id, tenantId } });
  return row && readDatasetRow(row);
}

export async function findDatasetByHash(db: Db, tenantId: string, contentHash: string): Promise<DatasetRow | null> {
  const row = await db.dataset.findUnique({ where: { tenantId_contentHash: { tenantId, contentHash } } });
  return row && readDatasetRow(row);
}

export async function listDatasets(db: Db, tenantId: string): Promise<DatasetRow[]> {
  return (await db.dataset.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] })).map(readDatasetRow);
}

export async function createDataset(db: Db, data: Prisma.DatasetUncheckedCreateInput): Promise<DatasetRow> {
  return readDatasetRow(await db.dataset.create({ data }));
}

export async function storedDatasetBytes(db: Db, tenantId: string): Promise<number> {
  return (await db.dataset.aggregate({ where: { tenantId }, _sum: { sizeBytes: true } }))._sum.sizeBytes ?? 0;
}

/** Jobs that still need the dataset's examples. */
export function activeJobsUsing(db: Db, tenantId: string, datasetId: string) {
  return db.job.findMany({ where: { tenantId, datasetId, status: { in: [...UNFINISHED_STATUSES] } }, select: { id: true, status: true }, take: 5 });
}

export async function deleteDataset(db: Db, tenantId: string, id: string): Promise<boolean> {
  const { count } = await db.dataset.deleteMany({ where: { id, tenantId } });
  return count > 0;
}
