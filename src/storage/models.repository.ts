import type { Db, TrainedModel, Prisma } from './prisma.js';

export type NewTrainedModel = Omit<Prisma.TrainedModelUncheckedCreateInput, 'id' | 'createdAt'> & { id: string };

export function findModel(db: Db, tenantId: string, id: string): Promise<TrainedModel | null> {
  return db.trainedModel.findFirst({ where: { id, tenantId } });
}

export async function listModels(
  db: Db,
  tenantId: string,
  { limit, cursor }: { limit: number; cursor?: string },
): Promise<{ items: TrainedModel[]; nextCursor: string | null }> {
  const rows = await db.trainedModel.findMany({
    where: { tenantId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
}

/**
 * Records the trained model and marks its job succeeded in one transaction, so
 * a job is never `succeeded` without its model (nor the reverse). Returns null,
 * storing nothing, when the job is no longer running (cancelled meanwhile).
 * Keyed by job: a retry after a crash between artifact write and commit reuses the row.
 */
export async function completeJobWithModel(
  db: Db,
  model: NewTrainedModel,
  result: { testLoss: number | null; testAccuracy: number | null; stopReason?: string | null },
): Promise<TrainedModel | null> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.job.updateMany({
      where: { id: model.jobId, status: 'running' },
      data: { status: 'succeeded', finishedAt: new Date(), testLoss: result.testLoss, testAccuracy: result.testAccuracy, stopReason: result.stopReason ?? null },
    });
    if (count === 0) return null;
    const saved = await tx.trainedModel.upsert({ where: { jobId: model.jobId }, create: model, update: { ...model, id: undefined } });
    await tx.jobEvent.create({
      data: { jobId: model.jobId, type: 'state', data: { status: 'succeeded', modelId: saved.id, testAccuracy: result.testAccuracy, stopReason: result.stopReason ?? null } },
    });
    return saved;
  });
}
