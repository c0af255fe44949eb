import { describe, expect, it } from 'vitest';
import { JOB_STATUSES, RUNNING_STATUSES, TERMINAL_STATUSES, UNFINISHED_STATUSES, isTerminalStatus } from '../../src/storage/jobs.repository.js';
import { JobListQuerySchema, JobSchema } from '../../src/api/routes/jobs/jobs.schema.js';

/**
 * The job states come from the database enum (prisma/schema.prisma) through
 * the storage module; the API's schemas (job status, list filter) are built
 * from that list.
 */
describe('job statuses', () => {
  it('are the database enum, in lifecycle order, and the API advertises exactly them', () => {
    expect(JOB_STATUSES).toEqual(['queued', 'running', 'succeeded', 'failed', 'cancelling', 'cancelled']);
    expect(JobSchema.properties.status.enum).toEqual([...JOB_STATUSES]);
    expect(JobListQuerySchema.properties.status.enum).toEqual([...JOB_STATUSES]);
  });

  it('split into terminal and unfinished states; running ones are unfinished', () => {
    expect([...TERMINAL_STATUSES, ...UNFINISHED_STATUSES].sort()).toEqual([...JOB_STATUSES].sort());
    expect(UNFINISHED_STATUSES).toEqual(['queued', 'running', 'cancelling']);
    for (const s of RUNNING_STATUSES) expect(UNFINISHED_STATUSES).toContain(s);
    expect(JOB_STATUSES.filter(isTerminalStatus)).toEqual(['succeeded', 'failed', 'cancelled']);
    expect(isTerminalStatus('done')).toBe(false);
  });
});
