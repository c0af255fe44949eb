import { PrismaClient } from './generated/prisma/client.js';
import { createPgAdapter } from './pg-adapter.js';

export type Db = PrismaClient;
export { Prisma } from './generated/prisma/client.js';
export type { Job, EpochMetric, TrainedModel, JobStatus } from './generated/prisma/client.js';
// The job states as a value, generated from the enum in prisma/schema.prisma: the one list there is.
export { JobStatus as JobStatusEnum } from './generated/prisma/enums.js';

/** One client per process; callers own its lifetime ($disconnect on shutdown). */
export function createDb(databaseUrl: string, options: { poolSize?: number } = {}): Db {
  return new PrismaClient({ adapter: createPgAdapter(databaseUrl, { max: options.poolSize ?? 10 }) });
}
