import type { Db, TrainedModel, Prisma } from './prisma.js';
import { addModelVersion } from './registry.repository.js';
import { addJobEvent } from './jobs.repository.js';
import { buildLineage } from './model-lineage.js';
import { readModelRow, type StoredModel } from './model.schema.js';

export type NewTrainedModel = Omit<Prisma.TrainedModelUncheckedCreateInput, 'id' | 'createdAt'> & { id: string };

export async function findModel(db: Db, tenantId: string, id: string): Promise<StoredModel | null> {
  const row = await db.trainedModel.findFirst({ where: { id, tenantId } });
  return row && readModelRow(row);
}

/** The id of the model job `jobId` already stored (a retry after a crash reuses it), or null. */
export async function findModelIdOfJob(db: Db, jobId: string): Promise<string | null> {
  return (await db.trainedModel.findUnique({ where: { jobId }, select: { id: true } }))?.id ?? null;
}

/** Bytes of trained-model artifacts the tenant stores: what counts against its artifact quota. */
export async function storedModelBytes(db: Db, tenantId: string): Promise<number> {
  return (await db.trainedModel.aggregate({ where: { tenantId }, _sum: { sizeBytes: true } }))._sum.sizeBytes ?? 0;
}

export async function listModels(db: Db, tenantId: string, { limit, cursor }: { limit: number; cursor?: string }): Promise<{ items: StoredModel[]; nextCursor: string | null }> {
  const rows = await db.trainedModel.findMany({
    where: { tenantId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, limit).map(readModelRow);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
}

/**
 * Records the trained model and marks its job succeeded in one transaction, so
 * a job is never `succeeded` without its model (nor the reverse). Returns null,
 * storing nothing, when the job is no longer running (cancelled meanwhile).
 * Keyed by job: a retry after a crash between artifact write and commit reuses the row.
 * With `register`, the model becomes the next version of that registered model
 * in the same transaction: a job asked to register never succeeds unregistered.
 */
export async function completeJobWithModel(
  db: Db,
  model: NewTrainedModel,
  result: { testLoss: number | null; testAccuracy: number | null; stopReason?: string | null },
  register?: { name: string; datasetContentHash: string | null },
): Promise<(TrainedModel & { registeredAs: { name: string; version: number } | null }) | null> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.job.updateMany({
      where: { id: model.jobId, status: 'running' },
      data: { status: 'succeeded', finishedAt: new Date(), testLoss: result.testLoss, testAccuracy: result.testAccuracy, stopReason: result.stopReason ?? null },
    });
    if (count === 0) return null;
    const saved = await tx.trainedModel.upsert({ where: { jobId: model.jobId }, create: model, update: { ...model, id: undefined } });
    let registeredAs: { name: string; version: number } | null = null;
    if (register) {
      const job = await tx.job.findUniqueOrThrow({ where: { id: model.jobId } });
      const { record } = await addModelVersion(tx, saved.tenantId, register.name, saved, buildLineage(job, saved, register.datasetContentHash));
      registeredAs = { name: record.name, version: record.version };
    }
    await addJobEvent(tx, model.jobId, 'state', {
      status: 'succeeded',
      modelId: saved.id,
      testAccuracy: result.testAccuracy,
      stopReason: result.stopReason ?? null,
      ...(registeredAs ? { registeredAs } : {}),
    });
    return { ...saved, registeredAs };
  });
}
