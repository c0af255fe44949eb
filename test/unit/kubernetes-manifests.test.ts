import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { QueueKeys } from 'bullmq';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { loadConfig } from '../../src/config/config.js';
import { WORKER_EXIT_MARGIN_MS } from '../../src/worker/worker.js';

/**
 * deploy/kubernetes, checked offline: every manifest parses and validates
 * against the Kubernetes (and KEDA, Prometheus Operator) schemas of the
 * kubernetes-models packages, with no unknown field (TypeScript's excess
 * property check on the same models' types); `kubectl kustomize` renders
 * the base and the example overlay; and what the rendered objects say
 * agrees with the application (settings, ports, grace periods, queue keys).
 */
const root = path.resolve(__dirname, '../..');
const DEPLOY = path.join(root, 'deploy/kubernetes');
const BASE = path.join(DEPLOY, 'base');
const OVERLAY = path.join(DEPLOY, 'overlays/example');

// Manifests are free-form YAML here; the schema checks below are what type them.
type Doc = Record<string, any>;

interface Model {
  validate(): void;
}
// Each model takes its own shape; a manifest is checked by validate(), not by the compiler.
type ModelClass = new (data: any) => Model;

/** apiVersion/kind -> the model that validates it, and where its TypeScript interface comes from. */
const MODELS: Record<string, { model: ModelClass; types: string }> = {
  'v1/ConfigMap': { model: ConfigMap, types: 'kubernetes-models/v1' },
  'v1/Secret': { model: Secret, types: 'kubernetes-models/v1' },
  'v1/Service': { model: Service, types: 'kubernetes-models/v1' },
  'v1/ServiceAccount': { model: ServiceAccount, types: 'kubernetes-models/v1' },
  'v1/Namespace': { model: Namespace, types: 'kubernetes-models/v1' },
  'apps/v1/Deployment': { model: Deployment, types: 'kubernetes-models/apps/v1' },
  'batch/v1/Job': { model: Job, types: 'kubernetes-models/batch/v1' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, types: 'kubernetes-models/policy/v1' },
  'keda.sh/v1alpha1/ScaledObject': { model: ScaledObject, types: '@kubernetes-models/keda/keda.sh/v1alpha1' },
  'keda.sh/v1alpha1/TriggerAuthentication': { model: TriggerAuthentication, types: '@kubernetes-models/keda/keda.sh/v1alpha1' },
  'monitoring.coreos.com/v1/PodMonitor': { model: PodMonitor, types: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1' },
};

const label = (doc: Doc) => `${doc.kind}/${doc.metadata?.name}`;

/** Schema errors of each document, by kubernetes-models' validators. */
function schemaErrors(docs: Doc[]): string[] {
  return docs.flatMap((doc) => {
    const entry = MODELS[`${doc.apiVersion}/${doc.kind}`];
    if (!entry) return [`${label(doc)}: no schema known for ${doc.apiVersion} ${doc.kind}`];
    try {
      new entry.model(doc).validate();
      return [];
    } catch (err) {
      return [`${label(doc)}: ${(err as Error).message}`];
    }
  });
}

/**
 * Fields the schemas do not know (a misspelt `readinesProbe` passes a JSON
 * schema that allows extra properties): each document as an object literal
 * typed with its model's interface, compiled, so that excess property
 * checks name every unknown field.
 */
function unknownFields(docs: Doc[]): string[] {
  const file = path.join(root, 'test/unit/__manifests__.ts');
  const imports = new Map<string, Set<string>>();
  const lines = docs.map((doc, i) => {
    const { types } = MODELS[`${doc.apiVersion}/${doc.kind}`];
    if (!imports.has(types)) imports.set(types, new Set());
    imports.get(types)!.add(`I${doc.kind}`);
    return `export const doc${i}: I${doc.kind} = ${JSON.stringify(doc)};`;
  });
  const source = [...[...imports].map(([from, names]) => `import type { ${[...names].join(', ')} } from '${from}';`), ...lines].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === file ? source : readFile(name));
  host.fileExists = (name) => path.resolve(name) === file || ts.sys.fileExists(name);
  host.getSourceFile = (name, version, onError, create) =>
    path.resolve(name) === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, onError, create);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const owner = line >= imports.size ? label(docs[line - imports.size]) : '(imports)';
    return `${owner}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

function parseYaml(text: string, where: string): Doc[] {
  return parseAllDocuments(text).flatMap((d) => {
    if (d.errors.length) throw new Error(`${where}: ${d.errors.map((e) => e.message).join('; ')}`);
    const value = d.toJS();
    return value ? [value] : [];
  });
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(e.name) ? [full] : [];
  });
}

/** The manifests a directory's kustomization.yaml lists as resources (patches are partial objects). */
function resourceFiles(dir: string): string[] {
  const [kustomization] = parseYaml(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'), dir);
  return (kustomization.resources as string[]).map((r) => path.join(dir, r)).filter((p) => /\.ya?ml$/.test(p));
}

const kubectl = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
const kustomizeVersion = kubectl.status === 0 ? (JSON.parse(kubectl.stdout).kustomizeVersion as string) : null;

function render(dir: string): Doc[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  expect(result.error, 'kubectl is not installed').toBeUndefined();
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return parseYaml(result.stdout, `kubectl kustomize ${path.relative(root, dir)}`);
}

describe('deploy/kubernetes sources', () => {
  it('parse, every file, and the kustomizations list only files that exist', () => {
    const files = yamlFiles(DEPLOY);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(() => parseYaml(readFileSync(file, 'utf8'), file)).not.toThrow();
    for (const dir of [BASE, OVERLAY]) expect(resourceFiles(dir).filter((f) => !files.includes(f))).toEqual([]);
  });

  it('validate against the Kubernetes, KEDA and Prometheus Operator schemas, with no unknown field', () => {
    const docs = [BASE, OVERLAY].flatMap(resourceFiles).flatMap((f) => parseYaml(readFileSync(f, 'utf8'), f));
    expect(docs.length).toBeGreaterThanOrEqual(14);
    expect(schemaErrors(docs)).toEqual([]);
    expect(unknownFields(docs)).toEqual([]);
  });

  it('the checks catch a wrong type, a missing field and a misspelt field', () => {
    const [api] = parseYaml(readFileSync(path.join(BASE, 'api-deployment.yaml'), 'utf8'), 'api');
    const wrongType = structuredClone(api);
    wrongType.spec.replicas = 'two';
    expect(schemaErrors([wrongType])).toEqual([expect.stringContaining('replicas must be integer')]);
    const missing = structuredClone(api);
    delete missing.spec.template.spec.containers[0].name;
    expect(schemaErrors([missing])).toEqual([expect.stringContaining('containers/0 must have required property name')]);
    const misspelt = structuredClone(api);
    misspelt.spec.template.spec.containers[0].readinesProbe = misspelt.spec.template.spec.containers[0].readinessProbe;
    expect(schemaErrors([misspelt])).toEqual([]);
    expect(unknownFields([misspelt])).toEqual([expect.stringMatching(/^Deployment\/trainyard-api: .*"readinesProbe".* does not exist in type 'IContainer'/)]);
  });
});

describe.skipIf(!kustomizeVersion && !process.env.CI)('kubectl kustomize', () => {
  it('is Kustomize 5 or later (what the kustomizations are written for)', () => {
    expect(kustomizeVersion).toMatch(/^v([5-9]|\d{2,})\./);
  });

  for (const [name, dir] of [
    ['the base', BASE],
    ['the example overlay', OVERLAY],
  ] as const) {
    describe(name, () => {
      const docs = () => render(dir);
      const find = (all: Doc[], kind: string, nameOf: string) => {
        const found = all.find((d) => d.kind === kind && d.metadata.name === nameOf);
        if (!found) throw new Error(`${name} renders no ${kind}/${nameOf}`);
        return found;
      };

      it('renders objects that validate, with no unknown field', () => {
        const all = docs();
        expect(all.map(label).sort()).toEqual(
          expect.arrayContaining([
            'ConfigMap/trainyard-config',
            'Deployment/trainyard-api',
            'Deployment/trainyard-webhooks',
            'Deployment/trainyard-worker',
            'Job/trainyard-migrate',
            'PodDisruptionBudget/trainyard-api',
            'ScaledObject/trainyard-worker',
            'Secret/trainyard-secrets',
            'Service/trainyard-api',
            'ServiceAccount/trainyard',
            'TriggerAuthentication/trainyard-redis',
          ]),
        );
        expect(schemaErrors(all)).toEqual([]);
        expect(unknownFields(all)).toEqual([]);
      });

      it('gives every container settings the application accepts, from objects that exist', () => {
        const all = docs();
        const configMap = find(all, 'ConfigMap', 'trainyard-config');
        const secret = find(all, 'Secret', 'trainyard-secrets');
        const workloads = all.filter((d) => d.kind === 'Deployment' || d.kind === 'Job');
        expect(workloads.length).toBe(4);
        for (const w of workloads) {
          for (const c of w.spec.template.spec.containers) {
            const env: Record<string, string> = {};
            for (const from of c.envFrom ?? []) {
              if (from.configMapRef) Object.assign(env, find(all, 'ConfigMap', from.configMapRef.name).data);
              if (from.secretRef) Object.assign(env, find(all, 'Secret', from.secretRef.name).stringData);
            }
            for (const e of c.env ?? []) env[e.name] = e.value;
            expect(Object.keys(env).length, label(w)).toBeGreaterThan(10);
            expect(() => loadConfig(env), label(w)).not.toThrow();
          }
        }
        expect(Object.keys(configMap.data)).toEqual(expect.arrayContaining(['STORAGE_URL', 'S3_ENDPOINT', 'S3_FORCE_PATH_STYLE', 'AWS_REGION', 'WEBHOOK_ALLOW_PRIVATE_NETWORKS']));
        expect(Object.keys(secret.stringData)).toEqual(
          expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'ADMIN_TOKEN', 'METRICS_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']),
        );
      });

      it('gives each process longer to stop than it takes to hand its work back', () => {
        const all = docs();
        const settings = (deployment: Doc) => {
          const c = deployment.spec.template.spec.containers[0];
          const env = { ...find(all, 'ConfigMap', 'trainyard-config').data, ...find(all, 'Secret', 'trainyard-secrets').stringData };
          for (const e of c.env ?? []) env[e.name] = e.value;
          return loadConfig(env);
        };
        const graceMs = (d: Doc) => d.spec.template.spec.terminationGracePeriodSeconds * 1000;
        const worker = find(all, 'Deployment', 'trainyard-worker');
        const w = settings(worker);
        // main.ts exits at SHUTDOWN_GRACE_MS + WORKER_EXIT_MARGIN_MS at the latest.
        expect(graceMs(worker)).toBeGreaterThan(w.SHUTDOWN_GRACE_MS + WORKER_EXIT_MARGIN_MS);
        const api = find(all, 'Deployment', 'trainyard-api');
        const a = settings(api);
        expect(graceMs(api)).toBeGreaterThan(a.SHUTDOWN_GRACE_MS + a.SHUTDOWN_DRAIN_MS);
        const webhooks = find(all, 'Deployment', 'trainyard-webhooks');
        expect(graceMs(webhooks)).toBeGreaterThan(settings(webhooks).SHUTDOWN_GRACE_MS + 5000);
      });

      it('probes the API on its port (/readyz, /healthz) and each worker on its metrics port, where Prometheus scrapes them', () => {
        const all = docs();
        const config = loadConfig({ ...find(all, 'ConfigMap', 'trainyard-config').data, ...find(all, 'Secret', 'trainyard-secrets').stringData });
        const container = (d: Doc) => d.spec.template.spec.containers[0];
        const portNamed = (d: Doc, n: string) => container(d).ports.find((p: { name: string }) => p.name === n)?.containerPort;

        const api = find(all, 'Deployment', 'trainyard-api');
        expect(portNamed(api, 'http')).toBe(config.PORT);
        expect(container(api).readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
        expect(container(api).livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
        expect(api.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/port': String(config.PORT), 'prometheus.io/path': '/metrics' });
        const service = find(all, 'Service', 'trainyard-api');
        expect(service.spec.ports[0].targetPort).toBe('http');
        expect(service.spec.selector).toEqual(api.spec.template.metadata.labels);

        const worker = find(all, 'Deployment', 'trainyard-worker');
        expect(portNamed(worker, 'metrics')).toBe(config.WORKER_METRICS_PORT);
        expect(container(worker).livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
        expect(worker.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/port': String(config.WORKER_METRICS_PORT) });

        // Every PodDisruptionBudget and PodMonitor selects the pods of a Deployment, and names a port they have.
        for (const d of all.filter((x) => x.kind === 'PodDisruptionBudget' || x.kind === 'PodMonitor')) {
          const target = all.find((x) => x.kind === 'Deployment' && Object.entries(d.spec.selector.matchLabels).every(([k, v]) => x.spec.template.metadata.labels[k] === v));
          expect(target, label(d)).toBeDefined();
          for (const e of d.spec.podMetricsEndpoints ?? []) {
            expect(portNamed(target!, e.port), label(d)).toBeDefined();
            expect(find(all, 'Secret', e.authorization.credentials.name).stringData[e.authorization.credentials.key], label(d)).toBeDefined();
          }
        }
        expect(all.filter((x) => x.kind === 'PodDisruptionBudget').map((x) => x.metadata.name)).toContain('trainyard-api');
      });

      it("scales workers with KEDA on BullMQ's wait and active lists of the configured queue", () => {
        const all = docs();
        const config = loadConfig({ ...find(all, 'ConfigMap', 'trainyard-config').data, ...find(all, 'Secret', 'trainyard-secrets').stringData });
        const scaled = find(all, 'ScaledObject', 'trainyard-worker');
        expect(find(all, 'Deployment', scaled.spec.scaleTargetRef.name)).toBeDefined();
        const keys = new QueueKeys('bull').getKeys(config.QUEUE_NAME);
        const lists = Object.fromEntries(scaled.spec.triggers.map((t: Doc) => [t.name, t.metadata.listName]));
        expect(lists).toEqual({ waiting: keys.wait, active: keys.active });
        expect(scaled.spec.advanced.scalingModifiers).toMatchObject({ formula: 'waiting + active', target: String(config.WORKER_CONCURRENCY) });
        expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
        expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);
        const secret = find(all, 'Secret', 'trainyard-secrets');
        for (const t of scaled.spec.triggers) {
          const auth = find(all, 'TriggerAuthentication', t.authenticationRef.name);
          for (const ref of auth.spec.secretTargetRef) expect(find(all, 'Secret', ref.name).stringData[ref.key], ref.key).toBeDefined();
        }
        // KEDA's address is the host:port of REDIS_URL.
        expect(secret.stringData.REDIS_ADDRESS).toBe(new URL(secret.stringData.REDIS_URL).host);
      });
    });
  }

  it('the overlay puts everything in its namespace, and takes the image from its registry', () => {
    const all = render(OVERLAY);
    const namespaced = all.filter((d) => d.kind !== 'Namespace');
    expect(namespaced.filter((d) => d.metadata.namespace !== 'trainyard').map(label)).toEqual([]);
    const images = all.flatMap((d) => (d.spec?.template?.spec?.containers ?? []).map((c: { image: string }) => c.image));
    expect(images.length).toBe(4);
    expect(new Set(images)).toEqual(new Set(['registry.example.com/trainyard:0.1.0']));
    expect(all.find((d) => d.kind === 'ScaledObject')!.spec.maxReplicaCount).toBe(20);
    expect(all.find((d) => d.kind === 'ConfigMap')!.data).toMatchObject({ STORAGE_URL: 's3://trainyard/production', S3_FORCE_PATH_STYLE: 'true' });
  });
});
