import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { DEFAULT_PLAN_LIMITS } from '../model-spec/plan-limits.js';
import { describeViolations, expects, typeboxViolations } from '../model-spec/schema-errors.js';

/**
 * The one place that reads process.env. Everything else receives an AppConfig.
 * Defaults are chosen so that `npm start` works on a developer machine with
 * PostgreSQL and Redis on localhost.
 */
export const ConfigSchema = Type.Object({
  /** HTTP port of the API. */
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  /** Interface the API binds to. */
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', default: 'postgresql://postgres@127.0.0.1:5432/trainyard' }),
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  /** Directory of the on-disk artifact store (trained models, checkpoints, uploaded datasets); unused with STORAGE_URL. */
  ARTIFACT_DIR: Type.String({ minLength: 1, default: './var/artifacts' }),
  /**
   * `s3://<bucket>[/<prefix>]`: keep artifacts, checkpoints and uploaded
   * datasets in an S3-compatible object store instead of ARTIFACT_DIR, so
   * that workers on several hosts share them. Every API and worker process
   * must name the same one.
   */
  STORAGE_URL: Type.Optional(
    Type.String({
      pattern: '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/([A-Za-z0-9][A-Za-z0-9._-]*/?)*)?$',
      ...expects('s3://<bucket>[/<prefix>] (a bucket name, then path segments of letters, digits, . _ - that start with a letter or digit)'),
    }),
  ),
  /** Endpoint of an S3-compatible store other than AWS (MinIO, Ceph, R2...), e.g. http://minio:9000. Unset: AWS for AWS_REGION. */
  S3_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$', ...expects('an http:// or https:// URL') })),
  /** Address buckets as <endpoint>/<bucket> instead of <bucket>.<endpoint> (MinIO and most self-hosted stores need true). */
  S3_FORCE_PATH_STYLE: Type.Enum(['true', 'false'], { default: 'false' }),
  /** Region of the bucket. Unset: the AWS SDK's own lookup (AWS_PROFILE's config), else us-east-1. */
  AWS_REGION: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$', ...expects('a region name such as eu-west-1') })),
  /** Access key of the object store, with AWS_SECRET_ACCESS_KEY. Unset: the AWS SDK's default chain (profile, web identity, instance role). */
  AWS_ACCESS_KEY_ID: Type.Optional(Type.String({ minLength: 1 })),
  AWS_SECRET_ACCESS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** BullMQ queue name; tests give each run its own. */
  QUEUE_NAME: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', default: 'trainyard-train' }),
  /** Training engine: auto = tfjs-node if installed, else native (our oneDNN add-on) if built, else wasm, else cpu. */
  ENGINE: Type.Enum(['auto', 'tensorflow', 'native', 'wasm', 'cpu'], { default: 'auto' }),
  /**
   * Threads the native engine's kernels use in each training process and in
   * each of the API's compute threads. 1: workers scale by processes
   * (WORKER_CONCURRENCY, more workers), one busy core per job.
   */
  ENGINE_THREADS: Type.Integer({ minimum: 1, maximum: 256, default: 1 }),
  /** Jobs one worker process trains at the same time (each in its own sandboxed process). */
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  /** Models kept loaded in memory by the API for predict. */
  MODEL_CACHE_SIZE: Type.Integer({ minimum: 1, maximum: 1000, default: 8 }),
  /**
   * Worker threads of the API process that run inference, decode images and
   * parse uploaded datasets, so the event loop that answers HTTP never does.
   * 0 = one per CPU core.
   */
  COMPUTE_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 0 }),
  /**
   * Dynamic batching of predict requests (TF Serving's max_batch_size /
   * batch_timeout_micros): concurrent requests for the same model are run as
   * one batch of at most this many instances.
   */
  PREDICT_MAX_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 100000, default: 64 }),
  /**
   * Longest a partial batch waits for more requests while a thread is free, in
   * microseconds. 0: a batch starts as soon as a thread is free; requests that
   * arrive while every thread is busy still wait and go together.
   */
  PREDICT_BATCH_TIMEOUT_MICROS: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
  /** Most instances accepted by one predict request. */
  PREDICT_MAX_INSTANCES: Type.Integer({ minimum: 1, maximum: 100000, default: 256 }),
  /** A job whose model exceeds these is rejected at submission. */
  MAX_MODEL_PARAMS: Type.Integer({ minimum: 1, default: DEFAULT_PLAN_LIMITS.maxParams }),
  MAX_MODEL_MACS: Type.Integer({ minimum: 1, default: DEFAULT_PLAN_LIMITS.maxMacs }),
  /** Attempts for infrastructure failures (worker lost, database briefly down). */
  JOB_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
  /** Default wall-time limit of one training attempt; a job may set a lower or higher one. */
  JOB_MAX_WALL_TIME_SECONDS: Type.Integer({ minimum: 1, default: 24 * 3600 }),
  /**
   * How long a worker's claim on a job lasts without renewal, and how often
   * workers look for jobs whose worker died. A killed worker's job is resumed
   * by another after at most about twice this.
   */
  JOB_LOCK_MS: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000 }),
  /** How often a worker re-queues jobs stored as queued that Redis does not know (e.g. Redis was down at submission). */
  RECONCILE_INTERVAL_MS: Type.Integer({ minimum: 1000, default: 30_000 }),
  /** Longest a stopping process waits for running work (a batch, a checkpoint, open requests). */
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 1000, default: 30_000 }),
  /**
   * On SIGTERM the API first drains for at least this long, and until no new
   * connection has come for a quarter second (at most half of
   * SHUTDOWN_GRACE_MS): it keeps accepting connections and answers each new
   * request 503 (Retry-After), and /readyz says it is draining, so that
   * nothing already sent is reset and load balancers move away; then it
   * stops listening and finishes in-flight requests.
   */
  SHUTDOWN_DRAIN_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 1000 }),
  /**
   * Bearer token of the admin routes (/v1/admin: tenants and API keys).
   * Unset: those routes answer 403 and operators use `npm run keys`.
   */
  ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'at least 16 characters' })),
  /**
   * Bearer token Prometheus must send to /metrics (the API's, and each
   * worker's on WORKER_METRICS_PORT). Unset: /metrics is open, for networks
   * where only the scraper reaches those ports.
   */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'at least 16 characters' })),
  /**
   * Port of a worker's own /metrics (and /healthz) listener, on HOST. 0: any
   * free port. A port already taken (a second worker on the host) falls back
   * to a free one with a warning; GET /v1/workers shows each worker's port.
   */
  WORKER_METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  // Default quotas of every tenant; a tenant's own `quotas` override them.
  QUOTA_RUNNING_JOBS: Type.Integer({ minimum: 1, default: 2 }),
  QUOTA_QUEUED_JOBS: Type.Integer({ minimum: 1, default: 100 }),
  QUOTA_MODEL_PARAMS: Type.Integer({ minimum: 1, default: DEFAULT_PLAN_LIMITS.maxParams }),
  QUOTA_MODEL_MACS: Type.Integer({ minimum: 1, default: DEFAULT_PLAN_LIMITS.maxMacs }),
  /** epochs × training examples of one job. */
  QUOTA_EPOCH_SAMPLES: Type.Integer({ minimum: 1, default: 50_000_000 }),
  QUOTA_ARTIFACT_BYTES: Type.Integer({ minimum: 1, default: 20 * 1024 ** 3 }),
  QUOTA_DATASET_BYTES: Type.Integer({ minimum: 1, default: 20 * 1024 ** 3 }),
  /**
   * How long an API process trusts a key it has looked up, in ms, before
   * asking PostgreSQL again: a revocation by another process (npm run keys)
   * takes effect within this time; the admin route's takes effect at once
   * in its own process. 0 looks every request up.
   */
  API_KEY_CACHE_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 2_000 }),
  /** Per API key, per minute. */
  RATE_LIMIT_SUBMIT: Type.Integer({ minimum: 1, default: 60 }),
  RATE_LIMIT_PREDICT: Type.Integer({ minimum: 1, default: 1200 }),
  /** Largest uploaded dataset file, in bytes. */
  DATASET_MAX_BYTES: Type.Integer({ minimum: 1024, maximum: 2 ** 31 - 1, default: 512 * 1024 * 1024 }),
  /** Largest request body in bytes. */
  BODY_LIMIT: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024 }),
  /**
   * Webhooks may be sent to private, loopback, link-local and other
   * non-public addresses (checked when an endpoint is registered and before
   * every request). Off: only public addresses, so that a tenant's URL
   * cannot reach this server's own network.
   */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: Type.Enum(['true', 'false'], { default: 'false' }),
  /** Webhook URLs may use plain http. Off: https only (signatures prove the sender, but http exposes the payload). */
  WEBHOOK_ALLOW_HTTP: Type.Enum(['true', 'false'], { default: 'false' }),
  /** Longest one webhook request may take, from connecting to the end of the (capped) response. */
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  /** Wait before the first retry of a failed delivery; each further retry waits twice as long (at most 6 hours). */
  WEBHOOK_RETRY_BASE_MS: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 30_000 }),
  /** How long a delivery is retried, from its event (or its redelivery request): no retry is scheduled later. */
  WEBHOOK_RETRY_FOR_MS: Type.Integer({ minimum: 1000, maximum: 7 * 24 * 3_600_000, default: 24 * 3_600_000 }),
  /** Webhook requests one delivery process sends at once (to different endpoints; one endpoint's go one at a time). */
  WEBHOOK_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 8 }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
});

export type AppConfig = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
    Object.setPrototypeOf(this, ConfigError.prototype);
  }
}

const INTEGER_KEYS = new Set(
  Object.entries(ConfigSchema.properties)
    .filter(([, s]) => (s as { type?: string }).type === 'integer')
    .map(([k]) => k),
);

/**
 * Reads and validates configuration. Empty variables count as unset.
 * Throws ConfigError naming every bad variable and what it accepts.
 */
/** Settings that may hold credentials: their values never appear in error messages. */
const SECRET_KEYS = new Set(['DATABASE_URL', 'REDIS_URL', 'ADMIN_TOKEN', 'METRICS_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AppConfig> = {}): AppConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    raw[key] = INTEGER_KEYS.has(key) && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  }
  Object.assign(raw, overrides);
  const withDefaults = Value.Default(ConfigSchema, raw);
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length > 0) {
    const byKey = new Map<string, string>();
    for (const { path, complaint } of describeViolations(typeboxViolations(ConfigSchema, errors), withDefaults)) {
      const key = path[0] ?? '(config)';
      if (byKey.has(key)) continue;
      const dflt = (ConfigSchema.properties as Record<string, { default?: unknown }>)[key]?.default;
      // A secret's value (a token, a URL with a password) is never echoed into logs.
      const said = SECRET_KEYS.has(key) ? `${complaint.replace(/, got .*$/s, '')} (value not shown)` : complaint;
      byKey.set(key, `${key} ${said}${dflt !== undefined && !SECRET_KEYS.has(key) ? ` (default ${JSON.stringify(dflt)})` : ''}`);
    }
    const lines = [...byKey.values()];
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const storage = storageProblems(withDefaults as AppConfig);
  if (storage.length > 0) throw new ConfigError(`Invalid configuration:\n  ${storage.join('\n  ')}`);
  return withDefaults as AppConfig;
}

/** Object-store settings that are each valid but do not fit together. */
function storageProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  if ((config.AWS_ACCESS_KEY_ID === undefined) !== (config.AWS_SECRET_ACCESS_KEY === undefined)) {
    problems.push("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together, or neither (then the AWS SDK's default credential chain applies)");
  }
  if (!config.STORAGE_URL && config.S3_ENDPOINT !== undefined) {
    problems.push('S3_ENDPOINT is set but STORAGE_URL is not: set STORAGE_URL=s3://<bucket>[/<prefix>] to use the object store (without it, artifacts go to ARTIFACT_DIR)');
  }
  return problems;
}

/** The config as environment variables, for child processes that must see exactly this config. */
export function configToEnv(config: AppConfig): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
}
