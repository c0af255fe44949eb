import { defineConfig } from 'prisma/config';
import { createPgAdapter } from './src/storage/pg-adapter.js';

// The CLI skips .env when a config file exists, and with DATABASE_URL unset it
// would fall back to a downloaded engine; the default mirrors src/config.
process.env.DATABASE_URL ||= 'postgresql://postgres@127.0.0.1:5432/trainyard';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => createPgAdapter(process.env.DATABASE_URL!),
});
