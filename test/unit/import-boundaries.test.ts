import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering in ARCHITECTURE.md, checked on the source: which top-level
 * folders of src/ may import which. API and worker share only neutral
 * modules (queue contract, storage, model-spec, data, engine, infra, config).
 */
const SRC = path.resolve(__dirname, '../../src');

/** Folders each folder must never import from. */
const FORBIDDEN: Record<string, string[]> = {
  api: ['worker'],
  compute: ['api', 'worker'],
  predict: ['api', 'worker'],
  worker: ['api', 'compute', 'predict'],
  storage: ['api', 'worker', 'compute', 'predict', 'sweep'],
  queue: ['api', 'worker', 'compute', 'predict', 'storage', 'sweep'],
  data: ['api', 'worker', 'compute', 'predict', 'sweep'],
  // The sweep controller and its search algorithms: used by the API (submission, cancel) and by workers (trials' ends, early stopping).
  sweep: ['api', 'worker', 'compute', 'predict'],
  'model-spec': ['api', 'worker', 'compute', 'predict', 'storage', 'data', 'queue', 'engine', 'sweep'],
  engine: ['api', 'worker', 'compute', 'predict', 'storage', 'data', 'queue'],
  infra: ['api', 'worker', 'compute', 'predict', 'storage'],
  config: ['api', 'worker', 'compute', 'predict', 'storage'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(full);
    return /\.(ts|mts|mjs)$/.test(entry.name) ? [full] : [];
  });
}

/** Relative import specifiers of a file (static imports, re-exports and dynamic imports). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specifiers;
}

/** The top-level folder of src/ a path lies in, or null outside src/. */
function areaOf(file: string): string | null {
  const rel = path.relative(SRC, file);
  if (rel.startsWith('..')) return null;
  return rel.split(path.sep)[0];
}

const files = sourceFiles(SRC);

describe('import boundaries', () => {
  it('finds the source files and their imports', () => {
    // Guards the scan itself: a broken pattern would make every rule below pass vacuously.
    expect(files.length).toBeGreaterThan(50);
    const workerImports = files.filter((f) => areaOf(f) === 'worker').flatMap(importsOf);
    expect(workerImports).toContain('../queue/jobs.js');
  });

  it('no folder imports one it must not', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = areaOf(file)!;
      const forbidden = FORBIDDEN[from] ?? [];
      for (const spec of importsOf(file)) {
        const to = areaOf(path.resolve(path.dirname(file), spec));
        if (to && to !== from && forbidden.includes(to)) violations.push(`${path.relative(SRC, file)} imports ${spec} (${from} → ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('every folder of src/ has rules', () => {
    const areas = new Set(files.map((f) => areaOf(f)!));
    // A new folder must be placed in the layering on purpose.
    expect([...areas].filter((a) => !(a in FORBIDDEN) && a !== 'console').sort()).toEqual([]);
  });

  it('outside src/storage, Prisma is only created or named as a type, never queried', () => {
    const offenders: string[] = [];
    for (const file of files) {
      if (areaOf(file) === 'storage') continue;
      const text = readFileSync(file, 'utf8');
      if (/@prisma\/|generated\/prisma/.test(text)) offenders.push(`${path.relative(SRC, file)}: imports Prisma directly`);
      if (/\b(db|tx|prisma)\.(\$transaction|\$queryRaw|\$executeRaw|[a-z][A-Za-z]*\.(find\w*|create\w*|update\w*|delete\w*|upsert|count|aggregate|groupBy))\b/.test(text)) {
        offenders.push(`${path.relative(SRC, file)}: queries the database`);
      }
      const valueImport = text.match(/import\s+\{([^}]*)\}\s+from\s+['"][./]+storage\/prisma\.js['"]/);
      if (valueImport) {
        const names = valueImport[1]
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n && !n.startsWith('type '));
        const allowed = ['createDb', 'isUniqueViolation'];
        for (const name of names) if (!allowed.includes(name)) offenders.push(`${path.relative(SRC, file)}: imports ${name} from storage/prisma`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
