import { createHash, randomBytes } from 'node:crypto';
import type { QuotaOverrides } from '../config/quotas.js';
import type { Db } from './prisma.js';
import { readQuotaOverrides } from './quotas.repository.js';

/**
 * API keys: `ty_` + 8 characters shown in lists + a 32-byte secret. Only the
 * SHA-256 of the whole key is stored: the secret has 256 bits of entropy, so
 * a slow password hash would add nothing but latency to every request.
 */
const KEY_PATTERN = /^ty_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/;
export const TENANT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateKey(): { key: string; prefix: string; hash: string } {
  const prefix = `ty_${randomBytes(6).toString('base64url')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashKey(key) };
}

export function looksLikeKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

export interface TenantRow {
  id: string;
  name: string;
  quotas: QuotaOverrides;
  createdAt: Date;
  activeKeys: number;
}

const withActiveKeys = { _count: { select: { keys: { where: { revokedAt: null } } } } } as const;

function tenantRow(row: { id: string; name: string; quotas: unknown; createdAt: Date; _count: { keys: number } }): TenantRow {
  return { id: row.id, name: row.name, quotas: readQuotaOverrides(row.quotas, row.id), createdAt: row.createdAt, activeKeys: row._count.keys };
}

export async function createTenant(db: Db, id: string, name?: string, quotas: QuotaOverrides = {}): Promise<TenantRow> {
  return tenantRow(await db.tenant.create({ data: { id, name: name ?? id, quotas }, include: withActiveKeys }));
}

export async function findTenant(db: Db, id: string): Promise<TenantRow | null> {
  const row = await db.tenant.findUnique({ where: { id }, include: withActiveKeys });
  return row && tenantRow(row);
}

export async function listTenants(db: Db): Promise<TenantRow[]> {
  return (await db.tenant.findMany({ orderBy: { createdAt: 'asc' }, include: withActiveKeys })).map(tenantRow);
}

/** Renames a tenant and/or replaces its quota overrides; null when there is no such tenant. */
export async function updateTenant(db: Db, id: string, change: { name?: string; quotas?: QuotaOverrides }): Promise<TenantRow | null> {
  const { count } = await db.tenant.updateMany({ where: { id }, data: change });
  return count === 0 ? null : findTenant(db, id);
}

/** Creates a key; the returned `key` is the only time the secret exists outside the caller's hands. */
export async function createKey(db: Db, tenantId: string, name: string) {
  const { key, prefix, hash } = generateKey();
  const row = await db.apiKey.create({ data: { tenantId, name, prefix, hash } });
  return { ...row, key };
}

export function listKeys(db: Db, tenantId: string) {
  return db.apiKey.findMany({
    where: { tenantId },
    orderBy: { createdAt: 'asc' },
    select: { id: true, tenantId: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
}

export async function revokeKey(db: Db, id: string): Promise<boolean> {
  const { count } = await db.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  return count > 0;
}

export function findActiveKey(db: Db, key: string) {
  if (!looksLikeKey(key)) return Promise.resolve(null);
  return db.apiKey.findFirst({ where: { hash: hashKey(key), revokedAt: null }, select: { id: true, tenantId: true, lastUsedAt: true } });
}

export function touchKey(db: Db, id: string) {
  return db.apiKey.update({ where: { id }, data: { lastUsedAt: new Date() } });
}

export async function countActiveKeys(db: Db): Promise<number> {
  return db.apiKey.count({ where: { revokedAt: null } });
}
