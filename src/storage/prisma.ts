import { Prisma, PrismaClient } from './generated/prisma/client.js';
import { createPgAdapter } from './pg-adapter.js';

export type Db = PrismaClient;
/** For the repositories in this folder only; code outside src/storage asks questions such as isUniqueViolation instead. */
export { Prisma };
export type { Job, EpochMetric, TrainedModel, JobStatus, Sweep, SweepTrial, SweepStatus } from './generated/prisma/client.js';
// The job and sweep states as values, generated from the enums in prisma/schema.prisma: the one list there is.
export { JobStatus as JobStatusEnum, SweepStatus as SweepStatusEnum } from './generated/prisma/enums.js';

/** One client per process; callers own its lifetime ($disconnect on shutdown). */
export function createDb(databaseUrl: string, options: { poolSize?: number } = {}): Db {
  return new PrismaClient({ adapter: createPgAdapter(databaseUrl, { max: options.poolSize ?? 10 }) });
}

/** Whether `err` is a unique-constraint violation (Prisma's P2002), e.g. a second insert of the same key. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
