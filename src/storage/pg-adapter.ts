import pg from 'pg';
import { parse } from 'pg-connection-string';
import { PrismaPg } from '@prisma/adapter-pg';

/**
 * Prisma 6.19 driver-adapter mode is the only Prisma setup that works without
 * downloading engines. Two defects of @prisma/adapter-pg are handled here so
 * that the CLI (migrations) and the app share one adapter:
 *
 * - The schema engine's introspection returns columns of Postgres types `name`
 *   (oid 19) and `"char"` (oid 18), which the adapter refuses to deserialize
 *   (prisma/orm#27403). Their values are already strings, so relabelling the
 *   field as `text` (oid 25) is enough.
 * - The shadow database pool is built from `{...config, database}`, where a
 *   `connectionString` would silently win over `database`; so the adapter gets
 *   parsed URL fields. Its cleanup also dropped the database before closing
 *   the pool, which Postgres refuses while connections are open.
 */
const OID_CHAR = 18;
const OID_NAME = 19;
const OID_TEXT = 25;

type FieldLike = { dataTypeID: number };

function relabel<T>(result: T): T {
  const fields = (result as { fields?: FieldLike[] } | undefined)?.fields;
  if (Array.isArray(fields)) {
    for (const field of fields) {
      if (field.dataTypeID === OID_NAME || field.dataTypeID === OID_CHAR) field.dataTypeID = OID_TEXT;
    }
  }
  return result;
}

class RelabellingClient extends pg.Client {
  // pg's overloads make a typed override impractical. pg.Pool calls the
  // callback form, direct users the promise form: both are relabelled.
  // biome-ignore lint/suspicious/noExplicitAny: the override must stay assignable to every pg overload
  override query(...args: unknown[]): any {
    const call = super.query as (...a: unknown[]) => unknown;
    const first = args[0] as { submit?: unknown } | undefined;
    if (first && typeof first.submit === 'function') return call.apply(this, args);
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const callback = last as (err: unknown, result: unknown) => void;
      return call.apply(this, [...args.slice(0, -1), (err: unknown, result: unknown) => callback(err, err ? result : relabel(result))]);
    }
    return (call.apply(this, args) as Promise<unknown>).then(relabel);
  }
}

export function pgConfigFromUrl(databaseUrl: string): pg.PoolConfig {
  const parsed = parse(databaseUrl);
  return {
    host: parsed.host ?? undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    user: parsed.user ?? undefined,
    password: parsed.password ?? undefined,
    database: parsed.database ?? undefined,
    ssl: parsed.ssl === undefined || parsed.ssl === false ? undefined : (parsed.ssl as pg.PoolConfig['ssl']),
    application_name: 'trainyard',
  };
}

class TrainyardPg extends PrismaPg {
  private readonly poolConfig: pg.PoolConfig;

  constructor(config: pg.PoolConfig) {
    super(config);
    this.poolConfig = config;
  }

  override async connectToShadowDb() {
    const admin = new pg.Client(this.poolConfig as pg.ClientConfig);
    const database = `prisma_shadow_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    const pool = new pg.Pool({ ...this.poolConfig, database, Client: RelabellingClient });
    const factory = new PrismaPg(pool);
    const adapter = await factory.connect();
    const release = (adapter as unknown as { release?: () => Promise<void> }).release;
    (adapter as unknown as { release: () => Promise<void> }).release = async () => {
      await release?.();
      await pool.end().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    };
    return adapter;
  }
}

export function createPgAdapter(databaseUrl: string, poolOptions: Partial<pg.PoolConfig> = {}): PrismaPg {
  return new TrainyardPg({ ...pgConfigFromUrl(databaseUrl), Client: RelabellingClient, ...poolOptions } as pg.PoolConfig);
}
