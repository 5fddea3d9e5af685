import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { ensureFirstOwner } from './auth/first-owner.ts';
import { authRoutes } from './auth/routes.ts';
import { Sessions } from './auth/sessions.ts';
import { ensureAdminToken, ensureDefaultOrganization, resolveMasterKey, verifyMasterKey } from './bootstrap.ts';
import type { Config } from './config.ts';
import { limitConnections } from './connection-limits.ts';
import { registerAdminApi } from './control/admin-api.ts';
import { AdminAuth } from './control/admin-auth.ts';
import type { ControlContext } from './control/context.ts';
import { applyStrictBodyValidation } from './control/validation.ts';
import { startCoordination } from './coord/coordination.ts';
import type { Invalidation } from './coord/invalidation.ts';
import { openInvalidation } from './coord/open-invalidation.ts';
import { Vault } from './crypto/vault.ts';
import { applyConfigFileAtStart } from './declarative/at-start.ts';
import { TollgateError } from './errors.ts';
import type { GatewayContext } from './gateway/context.ts';
import { DOORS } from './gateway/doors/index.ts';
import { doorRoute } from './gateway/doors/serve.ts';
import { UsageWriter } from './gateway/metering/usage-writer.ts';
import { AuthFailures } from './gateway/policy/auth-failures.ts';
import { KeyCache } from './gateway/policy/key-cache.ts';
import { ScopeLimits, SpendScopes } from './gateway/policy/spend-scopes.ts';
import { embeddingsRoute } from './gateway/routes/embeddings.ts';
import { modelsRoute } from './gateway/routes/models.ts';
import { ModelRegistry } from './gateway/routing/model-registry.ts';
import { TargetHealth } from './gateway/routing/resilience.ts';
import { allowLinkLocalUpstreams } from './gateway/upstream-address.ts';
import { sendError, toTollgateError } from './http-errors.ts';
import { createLogger } from './logger.ts';
import { createMetrics, metricsAuthorized } from './metrics.ts';
import { drain, quiescent } from './shutdown.ts';
import { openStore, type Store } from './store/db.ts';
import { dashboardRoutes } from './web.ts';

export interface Tollgate {
  app: FastifyInstance;
  store: Store;
  gateway: GatewayContext;
  /** Production (NODE_ENV=production or PostgreSQL) without TOLLGATE_MASTER_KEY: say so loudly. */
  masterKeyWarning: boolean;
  /** Set on the very first start without TOLLGATE_ADMIN_TOKEN: shown once, never stored. */
  firstRunAdminToken: string | undefined;
  /** Set while no owner exists: the one-time token of the set-up link. */
  setupToken: string | undefined;
  masterKeyCreated: boolean;
  /** Stops taking requests, finishes those in flight, writes every usage record, closes. */
  close(): Promise<void>;
}

/** Builds a ready-to-listen Tollgate: database migrated, caches loaded, routes registered. */
export interface TollgateOptions {
  logger?: Logger;
  /** Milliseconds since the epoch; tests inject a clock they can move. */
  clock?: () => number;
}

export async function createTollgate(config: Config, options: TollgateOptions = {}): Promise<Tollgate> {
  const logger = options.logger ?? createLogger(config);
  const master = resolveMasterKey(config);
  const masterKeyWarning = master.source === 'file' && (config.production || config.databaseUrl !== undefined);
  if (masterKeyWarning) {
    logger.warn(
      'TOLLGATE_MASTER_KEY is not set: provider secrets are encrypted under a key file in the data directory. Set TOLLGATE_MASTER_KEY in production.',
    );
  }
  allowLinkLocalUpstreams(config.allowLinkLocalUpstreams);
  const vault = new Vault(master.key);
  const store = await openStore(config);
  const db = store.db;
  try {
    await verifyMasterKey(db, vault, master.source);
  } catch (error) {
    await store.close();
    throw error;
  }
  const orgId = await ensureDefaultOrganization(db);
  const firstRunAdminToken = await ensureAdminToken(db, config);
  const invalidation: Invalidation = await openInvalidation(store, config, logger);
  // TOLLGATE_CONFIG: a declarative tollgate.yaml, applied before the caches first load.
  await applyConfigFileAtStart(
    config,
    { db, vault, invalidation, orgId, clock: options.clock ?? Date.now },
    logger,
  ).catch(async (error) => {
    await invalidation.close();
    await store.close();
    throw error;
  });

  const usage = new UsageWriter(db, { logger, deadLetterFile: `${config.dataDir}/usage-dead-letters.jsonl` });
  const models = new ModelRegistry(db, vault, invalidation, (error) =>
    logger.error({ err: error }, 'model registry reload failed'),
  );
  await models.reload();
  const spendScopes = new SpendScopes(db, usage);
  const scopeLimits = new ScopeLimits(db, spendScopes, invalidation, (error) =>
    logger.error({ err: error }, 'spend limits reload failed'),
  );
  await scopeLimits.reload();
  const coordination = await startCoordination(config, logger);
  const gateway: GatewayContext = {
    keys: new KeyCache(db, invalidation, spendScopes),
    authFailures: new AuthFailures(config.authFailureLimit, config.authFailureWindowMs),
    models,
    usage,
    ledger: coordination.ledger,
    limiter: coordination.limiter,
    scopeLimits,
    health: new TargetHealth(),
    clock: options.clock ?? Date.now,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    requestDeadlineMs: config.requestDeadlineMs,
    upstreamBodyLimit: config.upstreamBodyLimit,
  };
  const control: ControlContext = {
    db,
    vault,
    invalidation,
    usage,
    orgId,
    plans: { keyLimits: config.planKeyLimits, defaultPlan: config.defaultPlan },
    clock: gateway.clock,
  };
  const sessions = new Sessions(db, gateway.clock);
  const adminAuth = new AdminAuth(db, config.adminToken, sessions);
  const setupToken = await ensureFirstOwner(db, orgId, config);

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // No access log line per request: usage records serve that purpose, off the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    genReqId: () => `req_${randomUUID().replaceAll('-', '')}`,
    return503OnClosing: true,
    // request.ip: X-Forwarded-For is believed only from the proxies listed in TOLLGATE_TRUSTED_PROXIES.
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
  });
  limitConnections(app.server, config);
  applyStrictBodyValidation(app);
  // Registered before the hooks below, so that they see parsed cookies.
  await app.register(cookie);
  let closing = false;

  app.addHook('onRequest', async (request, reply) => {
    reply.raw.setHeader('x-request-id', request.id);
    if (closing) throw new TollgateError('TG_ERR_SHUTTING_DOWN');
  });
  app.setErrorHandler((error, request, reply) => {
    const failure = toTollgateError(error as Error, request, config.bodyLimit);
    if (failure.status >= 500 && failure.code === 'TG_ERR_INTERNAL') {
      request.log.error({ err: error, requestId: request.id }, 'request failed');
    }
    sendError(request, reply, failure);
  });
  app.setNotFoundHandler((request, reply) => {
    sendError(
      request,
      reply,
      new TollgateError('TG_ERR_ROUTE_NOT_FOUND', request.method, request.url.split('?')[0] ?? ''),
    );
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Tollgate admin API', version: '1' },
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
      security: [{ adminToken: [] }],
    },
    hideUntagged: true,
  });
  app.get('/api/openapi.json', async () => app.swagger());
  await registerAdminApi(app, control, adminAuth);
  const metrics = createMetrics({ usage, keys: gateway.keys, models, coordination });
  app.get('/metrics', async (request, reply) => {
    if (!metricsAuthorized(config.metricsToken, request.headers.authorization)) {
      throw new TollgateError('TG_ERR_METRICS_UNAUTHORIZED');
    }
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/health', async (_request, reply) => {
    if (closing) return reply.code(503).send({ status: 'stopping' });
    // Under `serve --workers N`, which worker answered (a load balancer's view of them).
    return { status: 'ok', database: store.kind, ...(cluster.isWorker ? { worker: process.pid } : {}) };
  });

  for (const door of DOORS) doorRoute(app, gateway, door);
  embeddingsRoute(app, gateway);
  modelsRoute(app, gateway);
  authRoutes(app, { db, sessions, orgId, clock: gateway.clock });
  await dashboardRoutes(app);
  await app.ready();

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      // From here on /health and every new request answer 503: a load balancer drains this instance.
      closing = true;
      // Requests in flight may finish within the grace; past it they are cut (and billed).
      const cut = await drain(app, config.shutdownGraceMs, logger);
      // A request cut at the grace, or whose caller left, queues its usage record just after.
      await quiescent(() => usage.recorded, 50, cut > 0 ? 5000 : 1000);
      metrics.close();
      await coordination.close();
      await usage.close();
      await invalidation.close();
      await store.close();
    })();
    return closed;
  };
  return {
    app,
    store,
    gateway,
    firstRunAdminToken,
    setupToken,
    masterKeyCreated: master.created,
    masterKeyWarning,
    close,
  };
}
