import type { FastifyReply } from 'fastify';
import type { Exchange } from '../exchange.ts';
import type { Usage } from '../metering/cost.ts';

/** Usage headers on a whole answer: what it cost and its tokens, known before the body goes out. */
export function usageHeaders(reply: FastifyReply, exchange: Exchange, usage: Usage | undefined): void {
  if (exchange.grantedMaxTokens !== undefined) reply.header('x-tollgate-max-tokens', String(exchange.grantedMaxTokens));
  if (!usage) return;
  reply.header('x-tollgate-cost-usd', exchange.costOf(usage).toFixed(8));
  reply.header('x-tollgate-prompt-tokens', String(usage.promptTokens));
  reply.header('x-tollgate-completion-tokens', String(usage.completionTokens));
  reply.header('x-tollgate-cached-tokens', String(usage.cachedTokens));
  const writes = (usage.cacheWriteTokens ?? 0) + (usage.cacheWrite1hTokens ?? 0);
  if (writes > 0) reply.header('x-tollgate-cache-write-tokens', String(writes));
  if (usage.reasoningTokens) reply.header('x-tollgate-reasoning-tokens', String(usage.reasoningTokens));
  if (usage.source === 'counted') reply.header('x-tollgate-usage-source', 'counted');
}
