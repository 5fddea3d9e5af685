import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseMasterKey } from './config.ts';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('starts on port 4000 with ./data, the embedded database and a generated master key by default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      dataDir: path.resolve('data'),
      databaseUrl: undefined,
      masterKey: undefined,
      adminToken: undefined,
      bodyLimit: 10 * 1024 * 1024,
      upstreamTimeoutMs: 600_000,
      logLevel: 'info',
      production: false,
      planKeyLimits: { free: 10, pro: 100, enterprise: null },
      defaultPlan: 'free',
    });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
  });

  it('keeps the default key limit of every plan TOLLGATE_PLAN_KEY_LIMITS leaves out', () => {
    expect(loadConfig({ TOLLGATE_PLAN_KEY_LIMITS: ' pro = 5 ' }).planKeyLimits).toEqual({
      free: 10,
      pro: 5,
      enterprise: null,
    });
    expect(loadConfig({ TOLLGATE_PLAN_KEY_LIMITS: 'free=unlimited,enterprise=0' }).planKeyLimits).toEqual({
      free: null,
      pro: 100,
      enterprise: 0,
    });
  });

  it('believes X-Forwarded-For from no proxy unless TOLLGATE_TRUSTED_PROXIES lists some', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(loadConfig({ TOLLGATE_TRUSTED_PROXIES: ' 10.0.0.1, 10.1.0.0/16,::1 ' }).trustedProxies).toEqual([
      '10.0.0.1',
      '10.1.0.0/16',
      '::1',
    ]);
    for (const bad of ['*', '10.0.0.1/33', 'proxy.internal', '10.0.0.0/8/1']) {
      expect(configError({ TOLLGATE_TRUSTED_PROXIES: bad }).message).toMatch(/TOLLGATE_TRUSTED_PROXIES/);
    }
  });

  it('bounds slow clients and failed authentications by default, and keeps link-local upstreams refused', () => {
    expect(loadConfig({})).toMatchObject({
      authFailureLimit: 30,
      authFailureWindowMs: 60_000,
      headersTimeoutMs: 15_000,
      bodyTimeoutMs: 30_000,
      idleTimeoutMs: 60_000,
      maxConnections: 10_000,
      allowLinkLocalUpstreams: false,
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', TOLLGATE_MASTER_KEY: '', TOLLGATE_DATA_DIR: '' })).toMatchObject({
      port: 4000,
      databaseUrl: undefined,
      masterKey: undefined,
      dataDir: path.resolve('data'),
    });
  });

  it('reads every variable it documents', () => {
    const key = randomBytes(32);
    const env = {
      PORT: '8080',
      HOST: '127.0.0.1',
      TOLLGATE_DATA_DIR: '/var/lib/tollgate',
      DATABASE_URL: 'postgresql://tollgate@db:5432/tollgate',
      TOLLGATE_MASTER_KEY: key.toString('hex'),
      TOLLGATE_ADMIN_TOKEN: 'a-long-enough-admin-token',
      TOLLGATE_BODY_LIMIT: '2048',
      TOLLGATE_UPSTREAM_TIMEOUT_MS: '1500',
      TOLLGATE_REQUEST_DEADLINE_MS: '2500',
      TOLLGATE_UPSTREAM_BODY_LIMIT: '4096',
      TOLLGATE_LOG_LEVEL: 'debug',
      NODE_ENV: 'production',
      TOLLGATE_PLAN_KEY_LIMITS: 'free=3,pro=50,enterprise=1000',
      TOLLGATE_DEFAULT_PLAN: 'pro',
      TOLLGATE_AUTH_FAILURE_LIMIT: '5',
      TOLLGATE_AUTH_FAILURE_WINDOW_MS: '10000',
      TOLLGATE_HEADERS_TIMEOUT_MS: '5000',
      TOLLGATE_BODY_TIMEOUT_MS: '6000',
      TOLLGATE_IDLE_TIMEOUT_MS: '7000',
      TOLLGATE_MAX_CONNECTIONS: '500',
      TOLLGATE_ALLOW_LINK_LOCAL_UPSTREAMS: 'true',
      TOLLGATE_METRICS_TOKEN: 'a-long-enough-metrics-token',
      TOLLGATE_TRUSTED_PROXIES: '10.0.0.1,10.1.0.0/16',
      REDIS_URL: 'redis://redis:6379/1',
      TOLLGATE_COORD_FAILURE: 'open',
      TOLLGATE_SHUTDOWN_GRACE: '45',
      TOLLGATE_CONFIG: '/etc/tollgate.yaml',
    };
    // Every server variable in docs/configuration.md (the tables before its CLI section) is here.
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8').split('\n## CLI')[0] ?? '';
    const documented = new Set([...doc.matchAll(/^\| `([A-Z_]+)`/gm)].map((match) => match[1]));
    expect([...documented].sort()).toEqual(Object.keys(env).sort());
    const config = loadConfig(env);
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '/var/lib/tollgate',
      databaseUrl: 'postgresql://tollgate@db:5432/tollgate',
      masterKey: key,
      adminToken: 'a-long-enough-admin-token',
      bodyLimit: 2048,
      upstreamTimeoutMs: 1500,
      requestDeadlineMs: 2500,
      upstreamBodyLimit: 4096,
      logLevel: 'debug',
      production: true,
      planKeyLimits: { free: 3, pro: 50, enterprise: 1000 },
      defaultPlan: 'pro',
      authFailureLimit: 5,
      authFailureWindowMs: 10_000,
      headersTimeoutMs: 5000,
      bodyTimeoutMs: 6000,
      idleTimeoutMs: 7000,
      maxConnections: 500,
      allowLinkLocalUpstreams: true,
      metricsToken: 'a-long-enough-metrics-token',
      trustedProxies: ['10.0.0.1', '10.1.0.0/16'],
      redisUrl: 'redis://redis:6379/1',
      coordFailure: 'open',
      shutdownGraceMs: 45_000,
      configFile: '/etc/tollgate.yaml',
    });
  });

  it('gives a request, by default, one upstream timeout in all, and reads up to 32 MiB of an answer', () => {
    expect(loadConfig({ TOLLGATE_UPSTREAM_TIMEOUT_MS: '1500' })).toMatchObject({
      requestDeadlineMs: 1500,
      upstreamBodyLimit: 32 * 1024 * 1024,
    });
    expect(() => loadConfig({ TOLLGATE_REQUEST_DEADLINE_MS: '50' })).toThrow(/TOLLGATE_REQUEST_DEADLINE_MS/);
    expect(() => loadConfig({ TOLLGATE_UPSTREAM_BODY_LIMIT: '-1' })).toThrow(/TOLLGATE_UPSTREAM_BODY_LIMIT/);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['DATABASE_URL', 'mysql://x'],
    ['TOLLGATE_MASTER_KEY', 'short'],
    ['TOLLGATE_ADMIN_TOKEN', 'short'],
    ['TOLLGATE_METRICS_TOKEN', 'short'],
    ['TOLLGATE_LOG_LEVEL', 'loud'],
    ['TOLLGATE_BODY_LIMIT', '-1'],
    ['TOLLGATE_BODY_LIMIT', '10'],
    ['TOLLGATE_UPSTREAM_TIMEOUT_MS', '1.5'],
    ['TOLLGATE_HEADERS_TIMEOUT_MS', '10'],
    ['TOLLGATE_MAX_CONNECTIONS', '0'],
    ['TOLLGATE_ALLOW_LINK_LOCAL_UPSTREAMS', 'yes please'],
    ['TOLLGATE_PLAN_KEY_LIMITS', 'free=ten'],
    ['TOLLGATE_PLAN_KEY_LIMITS', 'gold=5'],
    ['TOLLGATE_PLAN_KEY_LIMITS', 'free'],
    ['TOLLGATE_PLAN_KEY_LIMITS', 'free=-1'],
    ['TOLLGATE_PLAN_KEY_LIMITS', 'free=10,'],
    ['TOLLGATE_DEFAULT_PLAN', 'gold'],
    ['REDIS_URL', 'http://redis:6379'],
    ['TOLLGATE_COORD_FAILURE', 'sometimes'],
    ['TOLLGATE_SHUTDOWN_GRACE', '-5'],
  ])('refuses %s=%s with an error that names the variable', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^${variable}: `));
  });
});

describe('parseMasterKey', () => {
  const key = randomBytes(32);

  it('accepts 32 bytes as 64 hex characters, in either case', () => {
    expect(parseMasterKey(key.toString('hex'))).toEqual(key);
    expect(parseMasterKey(key.toString('hex').toUpperCase())).toEqual(key);
  });

  it('accepts 32 bytes as base64 or base64url, and ignores surrounding whitespace', () => {
    expect(parseMasterKey(key.toString('base64'))).toEqual(key);
    expect(parseMasterKey(key.toString('base64url'))).toEqual(key);
    expect(parseMasterKey(`${key.toString('hex')}\n`)).toEqual(key);
  });

  it.each([
    ['too short', randomBytes(16).toString('hex')],
    ['too long', randomBytes(33).toString('base64')],
    ['63 hex characters', key.toString('hex').slice(1)],
    ['not base64', `${key.toString('base64').slice(0, -2)}!!`],
  ])('refuses a key that is %s', (_what, raw) => {
    expect(() => parseMasterKey(raw)).toThrow(ConfigError);
  });
});

describe('tollgate serve with a bad configuration', () => {
  it('exits with code 2 and names the variable on stderr', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tollgate-config-'));
    try {
      const failure = await promisify(execFile)(process.execPath, [path.join(root, 'bin/tollgate.js'), 'serve'], {
        cwd: root,
        env: { ...process.env, PORT: 'abc', TOLLGATE_DATA_DIR: dataDir },
        timeout: 30_000,
      }).then(
        () => undefined,
        (error: Error & { code?: number | string; stderr?: string; killed?: boolean }) => error,
      );
      expect(failure, 'tollgate serve started with PORT=abc').toBeDefined();
      expect(failure?.killed, 'tollgate serve did not exit by itself').toBe(false);
      expect(failure?.code).toBe(2);
      expect(failure?.stderr).toContain('PORT');
      expect(failure?.stderr).toContain('abc');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 40_000);
});
