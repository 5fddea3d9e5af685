import { createHash, timingSafeEqual } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Coordination } from './coord/coordination.ts';
import type { RequestFinishedEvent } from './gateway/diagnostics.ts';
import type { UsageWriter } from './gateway/metering/usage-writer.ts';
import type { KeyCache } from './gateway/policy/key-cache.ts';
import { PROVIDERS } from './gateway/providers/registry.ts';
import type { UsageRow } from './store/schema.ts';

/** The data plane's front doors, as usage records name them; anything else is counted as `other`. */
const ENDPOINTS = new Set(['chat.completions', 'embeddings', 'messages', 'responses']);

/** Which published models exist; a pino-free view of the model registry. */
export interface KnownModels {
  find(orgId: string, name: string): { name: string } | undefined;
}

/**
 * Label values from known sets only. A label value is a series kept for the life of the
 * process, so one taken from the request (the requested model name: any string, up to the body
 * limit) lets any caller grow memory and every scrape without bound.
 */
export function metricLabels(record: UsageRow, models: KnownModels) {
  const published = record.orgId && record.model ? models.find(record.orgId, record.model) : undefined;
  return {
    endpoint: ENDPOINTS.has(record.endpoint) ? record.endpoint : 'other',
    model: published ? published.name : record.model ? 'unknown' : '',
    provider: record.provider ? (PROVIDERS.has(record.provider) ? record.provider : 'unknown') : '',
    status:
      Number.isInteger(record.status) && record.status >= 100 && record.status <= 599 ? String(record.status) : 'other',
  };
}

/**
 * Whether a `/metrics` request may see the metrics: always when no token is configured, else
 * only with `Authorization: Bearer <token>`. Compared in constant time (over SHA-256 digests, so
 * the length of the token does not show either).
 */
export function metricsAuthorized(token: string | undefined, authorization: string | undefined): boolean {
  if (token === undefined) return true;
  const match = /^Bearer +(.+)$/i.exec(authorization ?? '');
  const given = createHash('sha256')
    .update(match?.[1]?.trim() ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}

/**
 * Prometheus metrics for `/metrics`, fed by the data plane's diagnostics channel and by
 * gauges read at scrape time. One registry per Tollgate, so several can share a process.
 */
export function createMetrics(parts: {
  usage: UsageWriter;
  keys: KeyCache;
  models: KnownModels;
  coordination?: Pick<Coordination, 'up' | 'failures' | 'mode'>;
}): {
  registry: Registry;
  close(): void;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tollgate_process_' });
  const labelNames = ['endpoint', 'model', 'provider', 'status'] as const;
  const requests = new Counter({
    name: 'tollgate_requests_total',
    help: 'Requests served after authentication',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tollgate_request_duration_seconds',
    help: 'Time from request to the end of the response',
    labelNames,
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'tollgate_tokens_total',
    help: 'Tokens reported by providers',
    labelNames: ['model', 'type'],
    registers: [registry],
  });
  const cost = new Counter({
    name: 'tollgate_cost_usd_total',
    help: 'Cost of served requests in USD',
    labelNames: ['model'],
    registers: [registry],
  });
  new Gauge({
    name: 'tollgate_usage_queue_depth',
    help: 'Usage records waiting to be written',
    registers: [registry],
    collect() {
      this.set(parts.usage.pending);
    },
  });
  new Gauge({
    name: 'tollgate_usage_records_written',
    help: 'Usage records written since start',
    registers: [registry],
    collect() {
      this.set(parts.usage.written);
    },
  });
  new Gauge({
    name: 'tollgate_usage_records_dropped',
    help: 'Usage records that could not be written since start',
    registers: [registry],
    collect() {
      this.set(parts.usage.dropped);
    },
  });
  new Gauge({
    name: 'tollgate_usage_records_dead_lettered',
    help: 'Usage records the database refused since start, set aside in usage_dead_letters or the dead-letter file',
    registers: [registry],
    collect() {
      this.set(parts.usage.deadLettered);
    },
  });
  new Gauge({
    name: 'tollgate_usage_spooled_records',
    help: 'Usage records waiting in the spool on disk for the database (docs/durability.md)',
    registers: [registry],
    collect() {
      this.set(parts.usage.spooled);
    },
  });
  new Gauge({
    name: 'tollgate_usage_spool_bytes',
    help: 'Bytes of the usage spool on disk',
    registers: [registry],
    collect() {
      this.set(parts.usage.spoolBytes);
    },
  });
  new Gauge({
    name: 'tollgate_usage_database_unreachable',
    help: '1 while the usage writer finds the database unreachable, else 0',
    registers: [registry],
    collect() {
      this.set(parts.usage.unreachable ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tollgate_key_cache_size',
    help: 'API keys held in memory',
    registers: [registry],
    collect() {
      this.set(parts.keys.size);
    },
  });
  const coordination = parts.coordination;
  if (coordination) {
    new Gauge({
      name: 'tollgate_coordination_up',
      help: 'Whether the shared counters (Redis) are reachable, and this instance may serve keys under a limit (1), or not (0)',
      registers: [registry],
      collect() {
        this.set(coordination.up() && coordination.mode() !== 'standby' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tollgate_coordination_failures',
      help: 'Calls to the shared counters (Redis) that failed since start',
      registers: [registry],
      collect() {
        this.set(coordination.failures());
      },
    });
  }

  const onFinished = (message: unknown) => {
    const { record } = message as RequestFinishedEvent;
    const labels = metricLabels(record, parts.models);
    requests.inc(labels);
    duration.observe(labels, record.latencyMs / 1000);
    const model = labels.model;
    if (record.promptTokens) tokens.inc({ model, type: 'prompt' }, record.promptTokens);
    if (record.completionTokens) tokens.inc({ model, type: 'completion' }, record.completionTokens);
    if (record.costUsd) cost.inc({ model }, record.costUsd);
  };
  diagnostics.subscribe('tollgate:request:finished', onFinished);
  return { registry, close: () => diagnostics.unsubscribe('tollgate:request:finished', onFinished) };
}
