import type { AppConfig } from '../config/config.js';
import { QuotaOverridesSchema, resolveQuotas, type QuotaOverrides, type Quotas } from '../config/quotas.js';
import type { Db, Prisma } from './prisma.js';
import { readStoredJson } from './stored-json.js';

/** A tenant row's `quotas` column, checked as it is read. */
export function readQuotaOverrides(stored: unknown, tenantId: string): QuotaOverrides {
  return readStoredJson(QuotaOverridesSchema, stored, `quotas of tenant '${tenantId}'`);
}

/**
 * A tenant's quotas: the server defaults with its row's `quotas` overrides.
 * Takes a transaction client too, so a check can read them under the lock it
 * holds (the running-jobs claim does). An unknown tenant gets the defaults.
 */
export async function tenantQuotas(db: Db | Prisma.TransactionClient, config: AppConfig, tenantId: string): Promise<Quotas> {
  const tenant = await db.tenant.findUnique({ where: { id: tenantId }, select: { quotas: true } });
  return resolveQuotas(config, tenant ? readQuotaOverrides(tenant.quotas, tenantId) : {});
}
