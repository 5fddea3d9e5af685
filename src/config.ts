import { isIP } from 'node:net';
import path from 'node:path';

/** Tollgate's configuration, read once from the environment at start-up. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** 32-byte master key for the credential vault; undefined means "use the key file". */
  masterKey: Buffer | undefined;
  adminToken: string | undefined;
  /** First owner's sign-in, created on first start when both are set. */
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** Largest request body accepted on any route, in bytes. */
  bodyLimit: number;
  /** Default time allowed for a provider to answer before 504, in milliseconds. */
  upstreamTimeoutMs: number;
  /**
   * The whole time a request may wait for a provider's answer, retries and fallbacks included
   * (each attempt gets the smaller of its timeout and what is left), in milliseconds.
   */
  requestDeadlineMs: number;
  /** Largest provider response body read for a non-streamed call, in bytes; larger is a 502. */
  upstreamBodyLimit: number;
  logLevel: string;
  production: boolean;
  /** Keys a project may hold on each plan (null: unlimited), unless the project overrides it. */
  planKeyLimits: Record<Plan, number | null>;
  /** The plan new projects get. */
  defaultPlan: Plan;
  /** Bearer token `/metrics` requires; undefined: `/metrics` is open to anyone who can reach it. */
  metricsToken: string | undefined;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs); empty: none, the client is
   * the socket's peer. Sign-in throttling keys on the client address this yields.
   */
  trustedProxies: string[];
  /** Unknown API keys one client address may present per window before it waits (0: no limit). */
  authFailureLimit: number;
  authFailureWindowMs: number;
  /** Time a client has to send its whole request head, from connecting or from its last request. */
  headersTimeoutMs: number;
  /** Time a request body may go without a byte arriving. */
  bodyTimeoutMs: number;
  /** Time a keep-alive connection may sit idle between requests. */
  idleTimeoutMs: number;
  /** Open client connections at most; past it new ones are closed at once. */
  maxConnections: number;
  /** Whether provider base URLs may reach link-local and cloud metadata addresses. */
  allowLinkLocalUpstreams: boolean;
  /** Redis (or Valkey) shared by every instance for counters, leases and invalidation. */
  redisUrl: string | undefined;
  /**
   * What a request that needs shared counters does while Redis cannot be reached: `closed`
   * refuses it, `open` serves it on this instance's own counters, `auto` is closed for keys
   * that have a spend limit (theirs or their owner's, project's or organisation's) and open
   * for the rest.
   */
  coordFailure: 'auto' | 'closed' | 'open';
  /** On SIGTERM, how long requests in flight (streams included) may take to finish, in ms. */
  shutdownGraceMs: number;
  /** A declarative tollgate.yaml applied at start, when set. */
  configFile: string | undefined;
}

export const PLANS = ['free', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];
const DEFAULT_PLAN_KEY_LIMITS: Record<Plan, number | null> = { free: 10, pro: 100, enterprise: null };

/** `free=10,pro=100,enterprise=unlimited`; plans left out keep their defaults. */
function planKeyLimits(env: Env): Record<Plan, number | null> {
  const name = 'TOLLGATE_PLAN_KEY_LIMITS';
  const raw = env[name]?.trim();
  const limits = { ...DEFAULT_PLAN_KEY_LIMITS };
  if (!raw) return limits;
  for (const part of raw.split(',')) {
    const [plan, value] = part.split('=').map((text) => text.trim());
    if (!PLANS.includes(plan as Plan) || value === undefined || !/^(\d+|unlimited)$/.test(value)) {
      throw new ConfigError(name, `expected plan=N pairs such as free=10,pro=100,enterprise=unlimited, got "${part}"`);
    }
    limits[plan as Plan] = value === 'unlimited' ? null : Number(value);
  }
  return limits;
}

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Accepts 64 hex characters or base64 of exactly 32 bytes. */
export function parseMasterKey(raw: string, variable = 'TOLLGATE_MASTER_KEY'): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(text) && !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text))) {
    throw new ConfigError(
      variable,
      'must be 32 bytes written as 64 hex characters or base64 (try: openssl rand -hex 32)',
    );
  }
  return key;
}

/** `10.0.0.1, 10.1.0.0/16, ::1`: addresses or CIDR ranges, checked now rather than at the first request. */
function trustedProxies(env: Env): string[] {
  const name = 'TOLLGATE_TRUSTED_PROXIES';
  const entries = (env[name] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new ConfigError(name, `expected IP addresses or CIDR ranges such as 10.0.0.1,10.1.0.0/16, got "${entry}"`);
    }
  }
  return entries;
}

function flag(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return false;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

function redisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL?.trim() || undefined;
  if (raw && !/^rediss?:\/\/[^\s]+$/.test(raw)) {
    throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
  }
  return raw;
}

const COORD_FAILURE = ['auto', 'closed', 'open'] as const;

function coordFailure(env: Env): Config['coordFailure'] {
  const raw = env.TOLLGATE_COORD_FAILURE?.trim().toLowerCase() || 'auto';
  if (!COORD_FAILURE.includes(raw as Config['coordFailure'])) {
    throw new ConfigError('TOLLGATE_COORD_FAILURE', `must be one of ${COORD_FAILURE.join(', ')}`);
  }
  return raw as Config['coordFailure'];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function firstOwner(env: Env): { adminEmail: string | undefined; adminPassword: string | undefined } {
  const adminEmail = env.TOLLGATE_ADMIN_EMAIL?.trim() || undefined;
  const adminPassword = env.TOLLGATE_ADMIN_PASSWORD || undefined;
  if (adminEmail && !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) {
    throw new ConfigError('TOLLGATE_ADMIN_EMAIL', 'must be an email address');
  }
  if (!adminEmail !== !adminPassword) {
    throw new ConfigError(
      adminEmail ? 'TOLLGATE_ADMIN_PASSWORD' : 'TOLLGATE_ADMIN_EMAIL',
      'set both TOLLGATE_ADMIN_EMAIL and TOLLGATE_ADMIN_PASSWORD, or neither',
    );
  }
  if (adminPassword && adminPassword.length < 10) {
    throw new ConfigError('TOLLGATE_ADMIN_PASSWORD', 'must be at least 10 characters long');
  }
  return { adminEmail: adminEmail?.toLowerCase(), adminPassword };
}

function plan(env: Env): Plan {
  const raw = env.TOLLGATE_DEFAULT_PLAN?.trim() || 'free';
  if (!PLANS.includes(raw as Plan))
    throw new ConfigError('TOLLGATE_DEFAULT_PLAN', `must be one of ${PLANS.join(', ')}`);
  return raw as Plan;
}

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must start with postgres:// or postgresql://');
  }
  const adminToken = env.TOLLGATE_ADMIN_TOKEN?.trim() || undefined;
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('TOLLGATE_ADMIN_TOKEN', 'must be at least 16 characters long');
  }
  const metricsToken = env.TOLLGATE_METRICS_TOKEN?.trim() || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) {
    throw new ConfigError('TOLLGATE_METRICS_TOKEN', 'must be at least 16 characters long');
  }
  const logLevel = env.TOLLGATE_LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('TOLLGATE_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    dataDir: path.resolve(env.TOLLGATE_DATA_DIR?.trim() || './data'),
    databaseUrl,
    masterKey: env.TOLLGATE_MASTER_KEY ? parseMasterKey(env.TOLLGATE_MASTER_KEY) : undefined,
    adminToken,
    ...firstOwner(env),
    bodyLimit: integer(env, 'TOLLGATE_BODY_LIMIT', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    upstreamTimeoutMs: integer(env, 'TOLLGATE_UPSTREAM_TIMEOUT_MS', 600_000, 100, 3_600_000),
    // By default as long as one attempt's timeout: a hanging provider is waited for once.
    requestDeadlineMs: integer(
      env,
      'TOLLGATE_REQUEST_DEADLINE_MS',
      integer(env, 'TOLLGATE_UPSTREAM_TIMEOUT_MS', 600_000, 100, 3_600_000),
      100,
      3_600_000,
    ),
    upstreamBodyLimit: integer(env, 'TOLLGATE_UPSTREAM_BODY_LIMIT', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    logLevel,
    production: env.NODE_ENV === 'production',
    planKeyLimits: planKeyLimits(env),
    defaultPlan: plan(env),
    metricsToken,
    trustedProxies: trustedProxies(env),
    authFailureLimit: integer(env, 'TOLLGATE_AUTH_FAILURE_LIMIT', 30, 0, 1_000_000),
    authFailureWindowMs: integer(env, 'TOLLGATE_AUTH_FAILURE_WINDOW_MS', 60_000, 1000, 3_600_000),
    headersTimeoutMs: integer(env, 'TOLLGATE_HEADERS_TIMEOUT_MS', 15_000, 100, 600_000),
    bodyTimeoutMs: integer(env, 'TOLLGATE_BODY_TIMEOUT_MS', 30_000, 100, 3_600_000),
    idleTimeoutMs: integer(env, 'TOLLGATE_IDLE_TIMEOUT_MS', 60_000, 100, 3_600_000),
    maxConnections: integer(env, 'TOLLGATE_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    allowLinkLocalUpstreams: flag(env, 'TOLLGATE_ALLOW_LINK_LOCAL_UPSTREAMS'),
    redisUrl: redisUrl(env),
    coordFailure: coordFailure(env),
    shutdownGraceMs: integer(env, 'TOLLGATE_SHUTDOWN_GRACE', 30, 0, 3600) * 1000,
    configFile: env.TOLLGATE_CONFIG?.trim() ? path.resolve(env.TOLLGATE_CONFIG.trim()) : undefined,
  };
}
