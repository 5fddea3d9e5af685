import type { Usage } from '../../metering/cost.ts';
import type { TokenUsage } from './wire.ts';

export { openaiUsage } from '../../metering/cost.ts';

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/**
 * Converse usage → the gateway's. Bedrock counts tokens read from and written to the prompt
 * cache apart from `inputTokens`; the gateway's prompt tokens include them. Reads are the
 * cached tokens; writes are split by life with `cacheDetails` (`{ttl: '1h' | '5m', inputTokens}`),
 * and writes it does not break down are 5-minute writes.
 */
export function usageOf(usage: TokenUsage | undefined): Usage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const reads = count(usage.cacheReadInputTokens);
  const details = Array.isArray(usage.cacheDetails) ? usage.cacheDetails : [];
  const detailed = (ttl: string) =>
    details.reduce((sum, detail) => sum + (detail?.ttl === ttl ? count(detail.inputTokens) : 0), 0);
  const writes1h = detailed('1h');
  const writes = Math.max(count(usage.cacheWriteInputTokens), writes1h + detailed('5m'));
  const writes5m = writes - writes1h;
  return {
    promptTokens: count(usage.inputTokens) + reads + writes,
    completionTokens: count(usage.outputTokens),
    cachedTokens: reads,
    ...(writes5m > 0 && { cacheWriteTokens: writes5m }),
    ...(writes1h > 0 && { cacheWrite1hTokens: writes1h }),
  };
}
