import type { Db, Prisma } from './prisma.js';
import { UNFINISHED_STATUSES } from './jobs.repository.js';

export type DatasetRow = Awaited<ReturnType<Db['dataset']['findFirstOrThrow']>>;

export function findDataset(db: Db, tenantId: string, id: string): Promise<DatasetRow | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return Promise.resolve(null);
  return db.dataset.findFirst({ where: { id, tenantId } });
}

export function findDatasetByHash(db: Db, tenantId: string, contentHash: string): Promise<DatasetRow | null> {
  return db.dataset.findUnique({ where: { tenantId_contentHash: { tenantId, contentHash } } });
}

export function listDatasets(db: Db, tenantId: string): Promise<DatasetRow[]> {
  return db.dataset.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
}

export function createDataset(db: Db, data: Prisma.DatasetUncheckedCreateInput): Promise<DatasetRow> {
  return db.dataset.create({ data });
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
