import type { TestApp } from './app.js';
import { waitFor } from './wait-for.js';
import { isTerminalStatus } from '../../src/storage/jobs.repository.js';

/** A job as GET /v1/jobs/{id} answers it; tests read whichever fields they check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobBody = { id: string; status: string } & Record<string, any>;

/** A job in a state it never leaves: succeeded, failed or cancelled. */
export const isFinal = (job: { status: string }) => isTerminalStatus(job.status);

/**
 * Polls GET /v1/jobs/{id} through `http` (a tenant's agent) until `until`
 * accepts the job, by default until it is final; fails loudly with the last
 * job seen when `timeoutMs` passes.
 */
export function waitForJob(
  http: TestApp['http'],
  id: string,
  { until = isFinal, timeoutMs = 120_000, intervalMs, what = 'a final state' }: { until?: (job: JobBody) => boolean; timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<JobBody> {
  return waitFor(async () => (await http.get(`/v1/jobs/${id}`)).body as JobBody, until, { timeoutMs, intervalMs, what: `job ${id}: ${what}` });
}
