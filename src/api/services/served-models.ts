import type { Db } from '../../storage/prisma.js';
import type { StoredModel } from '../../storage/model.schema.js';
import { findModel } from '../../storage/models.repository.js';
import { listModelVersions, resolveModelVersion } from '../../storage/registry.repository.js';
import type { ServableModel } from '../../predict/serving.js';

/** A model ready to serve: its row, what serving needs of it, and the registry version it was found by. */
export interface ServedModel {
  model: StoredModel;
  servable: ServableModel;
  /** Registered name and version, when found through the registry. */
  name: string | null;
  version: number | null;
}

export type VersionSelector = { version?: number; alias?: string };

interface Entry {
  value: Promise<ServedModel | null>;
  expires: number;
}

function served(model: StoredModel, name: string | null, version: number | null): ServedModel {
  return { model, servable: { id: model.id, artifactKey: model.artifactKey, preprocessing: model.preprocessing }, name, version };
}

/**
 * Finds the model a predict request names, by id or through the registry,
 * with a short-lived cache: at thousands of requests a second, a database
 * round trip per request would cost more than the prediction. Trained models
 * never change; what a name, version or alias points at may, so those
 * entries live `registryTtlMs` and are dropped at once when this process
 * changes the registry ({@link invalidate}); other API processes see a change
 * within that time.
 */
export class ServedModels {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly db: Db,
    private readonly options: { modelTtlMs: number; registryTtlMs: number; maxEntries: number } = { modelTtlMs: 60_000, registryTtlMs: 1_000, maxEntries: 10_000 },
  ) {}

  byId(tenantId: string, id: string): Promise<ServedModel | null> {
    return this.cached(`id\u0000${tenantId}\u0000${id}`, this.options.modelTtlMs, async () => {
      const model = await findModel(this.db, tenantId, id);
      return model ? served(model, null, null) : null;
    });
  }

  /** By registered name: a version, an alias, or (neither) the latest version. */
  byName(tenantId: string, name: string, selector: VersionSelector): Promise<ServedModel | null> {
    const key = `name\u0000${tenantId}\u0000${name}\u0000${selector.version ?? ''}\u0000${selector.alias ?? ''}`;
    return this.cached(key, this.options.registryTtlMs, async () => {
      const found = await resolveModelVersion(this.db, tenantId, name, selector);
      return found ? served(found.model, found.name, found.version) : null;
    });
  }

  /** Every version of a name, ascending (uncached: status and metadata routes, not the hot path). */
  async versions(tenantId: string, name: string): Promise<ServedModel[] | null> {
    const all = await listModelVersions(this.db, tenantId, name);
    return all ? all.map((v) => served(v.model, v.name, v.version)) : null;
  }

  /** Forgets what this process resolved for a name: call after changing its versions or aliases. */
  invalidate(tenantId: string, name: string): void {
    const prefix = `name\u0000${tenantId}\u0000${name}\u0000`;
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  private cached(key: string, ttlMs: number, load: () => Promise<ServedModel | null>): Promise<ServedModel | null> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (this.entries.size >= this.options.maxEntries) this.entries.clear();
    const value = load();
    // Misses and failures are not kept: a model registered a moment later must be found.
    const entry = { value, expires: now + ttlMs };
    this.entries.set(key, entry);
    value.then(
      (v) => v === null && this.entries.get(key) === entry && this.entries.delete(key),
      () => this.entries.get(key) === entry && this.entries.delete(key),
    );
    return value;
  }
}
