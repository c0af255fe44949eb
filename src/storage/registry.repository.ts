import { Prisma, type Db, type TrainedModel } from './prisma.js';
import { readModelRow, type StoredModel } from './model.schema.js';
import { buildLineage, readLineage } from './model-lineage.js';
import { LATEST_ALIAS, MAX_MODEL_VERSION, type Lineage } from './registry.schema.js';
import { emitWebhookEvent } from './webhooks.repository.js';

/**
 * The model registry: per tenant, named lines of trained models with numbered
 * versions (never reused: `registered_models.lastVersion` only grows) and
 * movable aliases. Misses come back as values naming what was missing; the
 * routes decide what that means (404, 409).
 */

type Tx = Prisma.TransactionClient;

export interface ResolvedVersion {
  name: string;
  version: number;
  model: StoredModel;
}

export interface ModelVersionRecord {
  name: string;
  version: number;
  modelId: string;
  lineage: Lineage;
  /** Aliases pointing at this version, sorted. */
  aliases: string[];
  createdAt: Date;
}

export interface AliasRecord {
  alias: string;
  version: number;
}

export interface RegisteredModelRecord {
  name: string;
  /** Highest version number ever assigned, deleted versions included. */
  lastVersion: number;
  createdAt: Date;
  updatedAt: Date;
  aliases: AliasRecord[];
}

export interface RegisteredModelDetail extends RegisteredModelRecord {
  /** Ascending. */
  versions: ModelVersionRecord[];
}

export interface RegisteredModelSummary extends RegisteredModelRecord {
  versionCount: number;
  /** The highest existing version, or null when every version was deleted. */
  latest: ModelVersionRecord | null;
}

/** What was missing: the registered model itself, or the version (or alias) of an existing one. */
export type Missing = { missing: 'name' | 'version' | 'alias' | 'model' };

const versionInclude = {
  registeredModel: { select: { name: true } },
  aliases: { select: { alias: true }, orderBy: { alias: 'asc' } },
} satisfies Prisma.ModelVersionInclude;
type VersionRow = Prisma.ModelVersionGetPayload<{ include: typeof versionInclude }>;

const aliasInclude = { version: { select: { version: true } } } satisfies Prisma.ModelAliasInclude;
type AliasRow = Prisma.ModelAliasGetPayload<{ include: typeof aliasInclude }>;

function toVersionRecord(row: VersionRow): ModelVersionRecord {
  const name = row.registeredModel.name;
  return {
    name,
    version: row.version,
    modelId: row.modelId,
    lineage: readLineage(row.lineage, `version ${row.version} of '${name}'`),
    aliases: row.aliases.map((a) => a.alias),
    createdAt: row.createdAt,
  };
}

const toAliasRecord = (row: AliasRow): AliasRecord => ({ alias: row.alias, version: row.version.version });

const isVersionNumber = (v: number) => Number.isInteger(v) && v >= 1 && v <= MAX_MODEL_VERSION;

function isPrismaError(err: unknown, ...codes: string[]): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && codes.includes(err.code);
}

/**
 * Runs `work` in a transaction, again when it lost a race that the database
 * caught (unique key: two first writers of one alias; foreign key: an alias
 * and a version delete crossing), so that the retry sees the winner's result.
 */
async function withRaceRetry<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(work);
    } catch (err) {
      if (attempt >= 3 || !isPrismaError(err, 'P2002', 'P2003')) throw err;
    }
  }
}

async function nameExists(tx: Tx | Db, tenantId: string, name: string): Promise<boolean> {
  return (await tx.registeredModel.count({ where: { tenantId, name } })) > 0;
}

// ---- registration ----

/**
 * Adds `model` as the next version of `name` (created on first use) inside the
 * caller's transaction. The number comes from an UPDATE ... lastVersion + 1,
 * whose row lock serialises concurrent registrations of one name, so each gets
 * its own number. A model already registered under the name is not added twice:
 * its existing version comes back with `created: false`.
 */
export async function addModelVersion(tx: Tx, tenantId: string, name: string, model: TrainedModel, lineage: Lineage): Promise<{ record: ModelVersionRecord; created: boolean }> {
  const existing = () => tx.modelVersion.findFirst({ where: { modelId: model.id, registeredModel: { tenantId, name } }, include: versionInclude });
  const before = await existing();
  if (before) return { record: toVersionRecord(before), created: false };

  await tx.registeredModel.createMany({ data: [{ tenantId, name }], skipDuplicates: true });
  const counter = await tx.registeredModel.update({
    where: { tenantId_name: { tenantId, name } },
    data: { lastVersion: { increment: 1 } },
    select: { id: true, lastVersion: true },
  });
  // Another registration of this very model may have committed while we waited for the lock.
  const raced = await existing();
  if (raced) {
    await tx.registeredModel.update({ where: { id: counter.id }, data: { lastVersion: { decrement: 1 } } });
    return { record: toVersionRecord(raced), created: false };
  }
  const row = await tx.modelVersion.create({
    data: { registeredModelId: counter.id, version: counter.lastVersion, modelId: model.id, lineage: lineage as Prisma.InputJsonObject },
    include: versionInclude,
  });
  await emitWebhookEvent(tx, { tenantId, type: 'model.registered', data: { name, version: row.version, modelId: model.id, jobId: model.jobId }, at: row.createdAt });
  return { record: toVersionRecord(row), created: true };
}

/**
 * Registers the tenant's trained model `modelId` as the next version of `name`.
 * `datasetContentHash` identifies the data the model's job trained on (null when
 * that dataset no longer exists); the rest of the lineage is read from the rows.
 */
export async function registerModelVersion(
  db: Db,
  tenantId: string,
  name: string,
  modelId: string,
  datasetContentHash: string | null,
): Promise<{ registered: ModelVersionRecord } | { alreadyRegistered: ModelVersionRecord } | Missing> {
  return db.$transaction(async (tx) => {
    const model = await tx.trainedModel.findFirst({ where: { id: modelId, tenantId } });
    if (!model) return { missing: 'model' as const };
    const job = await tx.job.findUniqueOrThrow({ where: { id: model.jobId } });
    const { record, created } = await addModelVersion(tx, tenantId, name, model, buildLineage(job, model, datasetContentHash));
    return created ? { registered: record } : { alreadyRegistered: record };
  });
}

// ---- reading ----

export async function listRegisteredModels(
  db: Db,
  tenantId: string,
  { limit, after }: { limit: number; after?: string },
): Promise<{ items: RegisteredModelSummary[]; nextCursor: string | null }> {
  const rows = await db.registeredModel.findMany({
    where: { tenantId, ...(after !== undefined ? { name: { gt: after } } : {}) },
    orderBy: { name: 'asc' },
    take: limit + 1,
    include: {
      versions: { orderBy: { version: 'desc' }, take: 1, include: versionInclude },
      aliases: { include: aliasInclude, orderBy: { alias: 'asc' } },
      _count: { select: { versions: true } },
    },
  });
  const items = rows.slice(0, limit).map((row) => ({
    name: row.name,
    lastVersion: row.lastVersion,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    aliases: row.aliases.map(toAliasRecord),
    versionCount: row._count.versions,
    latest: row.versions[0] ? toVersionRecord(row.versions[0]) : null,
  }));
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].name : null };
}

export async function getRegisteredModel(db: Db, tenantId: string, name: string): Promise<RegisteredModelDetail | null> {
  const row = await db.registeredModel.findUnique({
    where: { tenantId_name: { tenantId, name } },
    include: {
      versions: { orderBy: { version: 'asc' }, include: versionInclude },
      aliases: { include: aliasInclude, orderBy: { alias: 'asc' } },
    },
  });
  if (!row) return null;
  return {
    name: row.name,
    lastVersion: row.lastVersion,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    aliases: row.aliases.map(toAliasRecord),
    versions: row.versions.map(toVersionRecord),
  };
}

export async function getModelVersion(db: Db, tenantId: string, name: string, version: number): Promise<ModelVersionRecord | Missing> {
  const row = isVersionNumber(version) ? await db.modelVersion.findFirst({ where: { version, registeredModel: { tenantId, name } }, include: versionInclude }) : null;
  if (row) return toVersionRecord(row);
  return { missing: (await nameExists(db, tenantId, name)) ? 'version' : 'name' };
}

/** selector: {version} or {alias} or {} = latest (highest) version. null when the name, version or alias does not exist for this tenant. */
export async function resolveModelVersion(db: Db, tenantId: string, name: string, selector: { version?: number; alias?: string }): Promise<ResolvedVersion | null> {
  const { version, alias } = selector;
  if (version !== undefined && !isVersionNumber(version)) return null;
  const byAlias = alias !== undefined && alias !== LATEST_ALIAS;
  // Both given: the alias must point at that version (never silently prefer one).
  const row = await db.modelVersion.findFirst({
    where: {
      registeredModel: { tenantId, name },
      ...(version !== undefined ? { version } : {}),
      ...(byAlias ? { aliases: { some: { alias } } } : {}),
    },
    orderBy: { version: 'desc' },
    include: { model: true },
  });
  if (!row) return null;
  if (alias === LATEST_ALIAS && version !== undefined) {
    const highest = await db.modelVersion.findFirst({ where: { registeredModel: { tenantId, name } }, orderBy: { version: 'desc' }, select: { version: true } });
    if (highest?.version !== version) return null;
  }
  return { name, version: row.version, model: readModelRow(row.model) };
}

/** All versions of a name, ascending, with their TrainedModel; null when the name does not exist. */
export async function listModelVersions(db: Db, tenantId: string, name: string): Promise<ResolvedVersion[] | null> {
  const row = await db.registeredModel.findUnique({
    where: { tenantId_name: { tenantId, name } },
    select: { versions: { orderBy: { version: 'asc' }, select: { version: true, model: true } } },
  });
  return row ? row.versions.map((v) => ({ name, version: v.version, model: readModelRow(v.model) })) : null;
}

// ---- aliases and deletion ----

/** Points `alias` at `version`, creating the alias or moving it. */
export function setModelAlias(
  db: Db,
  tenantId: string,
  name: string,
  alias: string,
  version: number,
): Promise<{ alias: AliasRecord & { previousVersion: number | null; createdAt: Date; updatedAt: Date } } | Missing> {
  return withRaceRetry(db, async (tx) => {
    const target = isVersionNumber(version)
      ? await tx.modelVersion.findFirst({ where: { version, registeredModel: { tenantId, name } }, select: { id: true, registeredModelId: true } })
      : null;
    if (!target) return { missing: (await nameExists(tx, tenantId, name)) ? ('version' as const) : ('name' as const) };
    const key = { registeredModelId_alias: { registeredModelId: target.registeredModelId, alias } };
    const previous = await tx.modelAlias.findUnique({ where: key, include: aliasInclude });
    const row = await tx.modelAlias.upsert({
      where: key,
      create: { registeredModelId: target.registeredModelId, alias, versionId: target.id },
      update: { versionId: target.id },
    });
    return { alias: { alias, version, previousVersion: previous?.version.version ?? null, createdAt: row.createdAt, updatedAt: row.updatedAt } };
  });
}

export async function deleteModelAlias(db: Db, tenantId: string, name: string, alias: string): Promise<{ deleted: true } | Missing> {
  const { count } = await db.modelAlias.deleteMany({ where: { alias, registeredModel: { tenantId, name } } });
  if (count > 0) return { deleted: true };
  return { missing: (await nameExists(db, tenantId, name)) ? 'alias' : 'name' };
}

/**
 * Deletes a version unless an alias points at it (then the aliases come back,
 * and nothing changes). Its number is never given out again.
 */
export function deleteModelVersion(db: Db, tenantId: string, name: string, version: number): Promise<{ deleted: true } | { aliasedBy: string[] } | Missing> {
  return withRaceRetry(db, async (tx) => {
    const row = isVersionNumber(version) ? await tx.modelVersion.findFirst({ where: { version, registeredModel: { tenantId, name } }, include: versionInclude }) : null;
    if (!row) return { missing: (await nameExists(tx, tenantId, name)) ? ('version' as const) : ('name' as const) };
    if (row.aliases.length > 0) return { aliasedBy: row.aliases.map((a) => a.alias) };
    // An alias set meanwhile makes this fail on its foreign key; the retry then reports it.
    await tx.modelVersion.delete({ where: { id: row.id } });
    return { deleted: true as const };
  });
}
