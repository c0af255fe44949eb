import type { Db } from './prisma.js';
import { JOB_STATUSES, type JobStatus } from './jobs.repository.js';

export interface JobCount {
  tenantId: string;
  status: JobStatus;
  count: number;
}

/**
 * How many jobs each tenant has in each state, for the metrics: every state
 * of every tenant that has a job, zeros included, so a series does not
 * vanish when its last job moves on.
 */
export async function countJobsByTenantAndStatus(db: Db): Promise<JobCount[]> {
  const groups = await db.job.groupBy({ by: ['tenantId', 'status'], _count: { _all: true } });
  const byTenant = new Map<string, Map<JobStatus, number>>();
  for (const g of groups) {
    let counts = byTenant.get(g.tenantId);
    if (!counts) {
      counts = new Map(JOB_STATUSES.map((s) => [s, 0]));
      byTenant.set(g.tenantId, counts);
    }
    counts.set(g.status, g._count._all);
  }
  return [...byTenant].flatMap(([tenantId, counts]) => [...counts].map(([status, count]) => ({ tenantId, status, count })));
}
