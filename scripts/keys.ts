/**
 * Operator command for tenants and API keys:
 *   npm run keys -- create --tenant acme [--name ci]   creates the tenant if needed, prints a new key once
 *   npm run keys -- list [--tenant acme]
 *   npm run keys -- revoke <key id>
 *   npm run keys -- bootstrap                          first run: a key for tenant 'default' if no key exists
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import { createDb } from '../src/storage/prisma.js';
import * as keys from '../src/storage/api-keys.repository.js';

const USAGE = 'usage: npm run keys -- create --tenant <id> [--name <name>] | list [--tenant <id>] | revoke <key id> | bootstrap';

async function main() {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { tenant: { type: 'string' }, name: { type: 'string' } } });
  const [command, arg] = positionals;
  const db = createDb(loadConfig().DATABASE_URL, { poolSize: 1 });
  try {
    switch (command) {
      case 'create': {
        const tenant = values.tenant;
        if (!tenant || !new RegExp(keys.TENANT_ID_PATTERN).test(tenant))
          throw new Error(`--tenant must be a lowercase slug (letters, digits, dashes), got ${JSON.stringify(tenant)}\n${USAGE}`);
        if (!(await keys.findTenant(db, tenant))) await keys.createTenant(db, tenant);
        const created = await keys.createKey(db, tenant, values.name ?? 'default');
        console.log(`tenant: ${tenant}\nkey id: ${created.id}\nAPI key (shown once, store it now): ${created.key}`);
        break;
      }
      case 'list': {
        const tenants = values.tenant ? [values.tenant] : (await keys.listTenants(db)).map((t) => t.id);
        for (const tenant of tenants) {
          for (const k of await keys.listKeys(db, tenant)) {
            console.log(
              [
                tenant,
                k.id,
                k.prefix,
                k.name,
                `created ${k.createdAt.toISOString()}`,
                k.lastUsedAt ? `last used ${k.lastUsedAt.toISOString()}` : 'never used',
                k.revokedAt ? `REVOKED ${k.revokedAt.toISOString()}` : 'active',
              ].join('  '),
            );
          }
        }
        break;
      }
      case 'revoke':
        if (!arg) throw new Error(USAGE);
        if (!(await keys.revokeKey(db, arg))) throw new Error(`no active key with id ${arg}`);
        console.log(`revoked ${arg}`);
        break;
      case 'bootstrap':
        if ((await keys.countActiveKeys(db)) > 0) break;
        if (!(await keys.findTenant(db, 'default'))) await keys.createTenant(db, 'default', 'Default tenant');
        {
          const created = await keys.createKey(db, 'default', 'first-run');
          console.log(
            `\n  No API key existed, so one was created for tenant 'default'. It is shown only now:\n\n    ${created.key}\n\n` +
              `  Send it as 'Authorization: Bearer <key>'. More keys: npm run keys -- create --tenant <id>\n`,
          );
        }
        break;
      default:
        throw new Error(USAGE);
    }
  } finally {
    await db.$disconnect();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
