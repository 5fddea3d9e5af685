import diagnostics from 'node:diagnostics_channel';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestFinishedEvent } from './gateway/diagnostics.ts';
import type { UsageWriter } from './gateway/metering/usage-writer.ts';
import type { KeyCache } from './gateway/policy/key-cache.ts';

/**
 * Prometheus metrics for `/metrics`, fed by the data plane's diagnostics channel and by
 * gauges read at scrape time. One registry per Tollgate, so several can share a process.
 */
export function createMetrics(parts: { usage: UsageWriter; keys: KeyCache }): { registry: Registry; close(): void } {
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
    name: 'tollgate_key_cache_size',
    help: 'API keys held in memory',
    registers: [registry],
    collect() {
      this.set(parts.keys.size);
    },
  });

  const onFinished = (message: unknown) => {
    const { record } = message as RequestFinishedEvent;
    const labels = {
      endpoint: record.endpoint,
      model: record.model ?? '',
      provider: record.provider ?? '',
      status: String(record.status),
    };
    requests.inc(labels);
    duration.observe(labels, record.latencyMs / 1000);
    const model = record.model ?? '';
    if (record.promptTokens) tokens.inc({ model, type: 'prompt' }, record.promptTokens);
    if (record.completionTokens) tokens.inc({ model, type: 'completion' }, record.completionTokens);
    if (record.costUsd) cost.inc({ model }, record.costUsd);
  };
  diagnostics.subscribe('tollgate:request:finished', onFinished);
  return { registry, close: () => diagnostics.unsubscribe('tollgate:request:finished', onFinished) };
}
