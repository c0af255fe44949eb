import type { Db } from '../../storage/prisma.js';
import * as registry from '../../storage/registry.repository.js';
import type { ModelVersionRecord, RegisteredModelRecord, RegisteredModelSummary, RegisteredModelDetail, Missing } from '../../storage/registry.repository.js';
import { findModel } from '../../storage/models.repository.js';
import { findJob } from '../../storage/jobs.repository.js';
import { resolveDataset } from '../../data/datasets.js';
import { ConflictError, NotFoundError, ProblemError } from '../errors/index.js';
import type { AliasView, ModelVersionView, RegisteredModelSummaryView, RegisteredModelView } from '../routes/registered-models/registered-models.schema.js';

const base = (name: string) => `/v1/registered-models/${encodeURIComponent(name)}`;

/** A 404 that names what is missing: the registered model, or its version or alias. */
export function registryMiss(miss: Missing['missing'], name: string, detail: { version?: number; alias?: string; modelId?: string } = {}): ProblemError {
  switch (miss) {
    case 'model':
      return new NotFoundError('model', detail.modelId ?? '');
    case 'name':
      return new NotFoundError('registered model', name);
    case 'version':
      return new ProblemError(404, 'not-found', 'Not Found', `registered model '${name}' has no version ${detail.version}`, {
        resource: 'model version',
        id: `${name}/${detail.version}`,
      });
    case 'alias':
      return new ProblemError(404, 'not-found', 'Not Found', `registered model '${name}' has no alias '${detail.alias}'`, {
        resource: 'model alias',
        id: `${name}/${detail.alias}`,
      });
  }
}

export function versionView(v: ModelVersionRecord): ModelVersionView {
  return {
    name: v.name,
    version: v.version,
    modelId: v.modelId,
    aliases: v.aliases,
    lineage: v.lineage,
    createdAt: v.createdAt.toISOString(),
    links: { self: `${base(v.name)}/versions/${v.version}`, model: `/v1/models/${v.modelId}` },
  };
}

function commonView(m: RegisteredModelRecord) {
  return {
    name: m.name,
    lastVersion: m.lastVersion,
    aliases: m.aliases,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
    links: { self: base(m.name) },
  };
}

export function summaryView(m: RegisteredModelSummary): RegisteredModelSummaryView {
  return { ...commonView(m), versionCount: m.versionCount, latest: m.latest ? versionView(m.latest) : null };
}

export function detailView(m: RegisteredModelDetail): RegisteredModelView {
  return { ...commonView(m), versions: m.versions.map(versionView) };
}

export function aliasView(name: string, a: { alias: string; version: number; previousVersion: number | null; createdAt: Date; updatedAt: Date }): AliasView {
  return {
    name,
    alias: a.alias,
    version: a.version,
    previousVersion: a.previousVersion,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    links: { version: `${base(name)}/versions/${a.version}` },
  };
}

/**
 * Registers one of the tenant's trained models as the next version of `name`.
 * The dataset's content hash is looked up here (built-in or upload) because
 * the repository does not know the dataset catalogue.
 */
export async function registerVersion(db: Db, tenantId: string, name: string, modelId: string): Promise<ModelVersionRecord> {
  const model = await findModel(db, tenantId, modelId);
  const job = model && (await findJob(db, tenantId, model.jobId));
  if (!model || !job) throw registryMiss('model', name, { modelId });
  const dataset = await resolveDataset(db, tenantId, job.datasetId);
  const outcome = await registry.registerModelVersion(db, tenantId, name, model.id, dataset?.contentHash ?? null);
  if ('missing' in outcome) throw registryMiss(outcome.missing, name, { modelId });
  if ('alreadyRegistered' in outcome) {
    const { version } = outcome.alreadyRegistered;
    throw new ConflictError('already-registered', `model ${modelId} is already version ${version} of registered model '${name}'`, { name, version });
  }
  return outcome.registered;
}

export function aliasConflict(name: string, version: number, aliases: string[]): ConflictError {
  const quoted = aliases.map((a) => `'${a}'`).join(', ');
  return new ConflictError(
    'version-has-aliases',
    `version ${version} of registered model '${name}' is what alias${aliases.length > 1 ? 'es' : ''} ${quoted} point${aliases.length > 1 ? '' : 's'} at; ` +
      'move or delete the alias first (PUT or DELETE /v1/registered-models/{name}/aliases/{alias})',
    { name, version, aliases },
  );
}
