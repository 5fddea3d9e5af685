import type { FastifyRequest } from 'fastify';
import type { Binding, LimitedScope } from '../../coord/spend-ledger.ts';
import { TollgateError } from '../../errors.ts';
import type { GatewayContext } from '../context.ts';
import type { Exchange } from '../exchange.ts';
import {
  cacheWritesCostMore,
  cacheWriteTtl,
  countedPromptBound,
  hiddenPromptTokens,
  IMAGE_TOKENS,
  type PromptPrices,
  promptTokenPrice,
} from './prompt-bound.ts';
import { describeWindow } from './windows.ts';

/** Output tokens assumed for a model whose maximum output is not configured. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;
/**
 * The byte bound is kept while the budget could pay its worst case this many times over;
 * below that the prompt is counted. The byte bound holds 3–10× what a prompt costs, so in a
 * burst the requests reserved with it could take most of what remains and refuse calls that
 * would fit: counting once fewer than this many such worst cases fit keeps a burst of up to
 * this many concurrent calls served close to what the budget affords.
 */
export const COUNT_BELOW_WORST_CASES = 64;

/** Dollars with cents, or three significant digits below a cent: $12.50, $0.00301. */
export const usd = (value: number) =>
  value >= 0.01 || value === 0 ? `$${value.toFixed(2)}` : `$${value.toPrecision(3)}`;

function refusal(binding: Binding | undefined, need: number, room: number): TollgateError {
  if (!binding) return new TollgateError('TG_ERR_SPEND_LIMIT_REACHED', 'no budget left');
  const { scope, kind, limitUsd, spentUsd, reservedUsd, resetsAt } = binding;
  const limit =
    kind === 'all-time'
      ? `its ${usd(limitUsd)} all-time limit`
      : `its ${usd(limitUsd)} limit per ${describeWindow(scope.limit.recurring as NonNullable<typeof scope.limit.recurring>)}`;
  const why = room > 0 ? `; ${usd(room)} remains, less than this request needs (${usd(need)})` : '';
  const reset = resetsAt ? `; the window resets at ${new Date(resetsAt).toISOString()}` : '';
  const held = reservedUsd > 0 ? ` (and requests in flight hold ${usd(reservedUsd)})` : '';
  return new TollgateError(
    'TG_ERR_SPEND_LIMIT_REACHED',
    `${scope.label} has spent ${usd(spentUsd)}${held} of ${limit}${why}${reset}`,
  );
}

/**
 * An upper bound on the prompt's tokens, cheap to compute: every token is at least one byte, so
 * the body's length bounds its text; images cost a fixed amount on top.
 */
export function promptTokenBound(request: FastifyRequest, body: Record<string, unknown>): number {
  const length = Number(request.headers['content-length']);
  let bound = Number.isFinite(length) && length > 0 ? length : Buffer.byteLength(JSON.stringify(body));
  if (Array.isArray(body.messages)) {
    for (const message of body.messages as Array<{ content?: unknown }>) {
      if (!Array.isArray(message?.content)) continue;
      for (const part of message.content as Array<{ type?: unknown }>)
        if (part?.type === 'image_url') bound += IMAGE_TOKENS;
    }
  }
  return bound;
}

/** Every limited scope the request must fit: the key, its owner, its project, its organisation. */
export function spendScopes(ctx: GatewayContext, exchange: Exchange): LimitedScope[] {
  const key = exchange.key as NonNullable<Exchange['key']>;
  const scopes: LimitedScope[] = [];
  if (key.spendScope) scopes.push(key.spendScope);
  for (const scope of [
    ctx.scopeLimits.get('user', key.ownerUserId),
    ctx.scopeLimits.get('project', key.projectId),
    ctx.scopeLimits.get('org', key.orgId),
  ]) {
    if (scope) scopes.push(scope);
  }
  return scopes;
}

/**
 * Reserves the request's worst-case cost on every applicable limit before it is forwarded:
 * an upper bound on the prompt's tokens at the dearest price they may be billed, plus the
 * output cap. The prompt is bounded by its bytes while the budget has plenty of room, and by
 * its counted tokens (with the model family's margin, see prompt-bound.ts) when it has not, so
 * a budget is spent down to the last request that really fits. When the budget cannot pay for
 * the requested (or the model's maximum) output, the output is capped to what it can pay for;
 * only a budget that cannot pay for the prompt refuses. The rule is in docs/limits-and-rules.md.
 */
export async function reserveSpend(
  ctx: GatewayContext,
  exchange: Exchange,
  body: Record<string, unknown>,
  producesOutput: boolean,
): Promise<void> {
  const scopes = spendScopes(ctx, exchange);
  if (scopes.length === 0) return;
  const model = exchange.model as NonNullable<Exchange['model']>;
  const now = ctx.clock();
  await ctx.ledger.prepare(scopes, now);
  const headroom = ctx.ledger.headroom(scopes, now);
  // A prompt that writes a cache may be billed above the input price (Anthropic: 1.25×, 2× for 1 h).
  const prices: PromptPrices = model.prices;
  const ttl = cacheWritesCostMore(prices) ? cacheWriteTtl(exchange.request.body ?? body) : undefined;
  const inputPrice = promptTokenPrice(prices, ttl) / 1e6;
  const outputPrice = model.prices.output / 1e6;
  const asked = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  const requested = typeof asked === 'number' ? asked : undefined;
  const choices = typeof body.n === 'number' && body.n > 1 ? body.n : 1;
  const ceiling = requested ?? model.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  const ceilingCost = producesOutput ? ceiling * outputPrice * choices : 0;

  let promptTokens = promptTokenBound(exchange.request, body) + hiddenPromptTokens(body, exchange.targets);
  // The hot path keeps the byte bound. Counting runs the tokenizer over the whole prompt (CPU
  // in proportion to its size), so it happens only when the byte bound's worst case does not
  // fit what remains comfortably: a nearly spent budget, or one that requests in flight hold.
  // The count never raises the bound: the smaller of the two is an upper bound too.
  if (inputPrice > 0 && !(headroom.usd >= COUNT_BELOW_WORST_CASES * (promptTokens * inputPrice + ceilingCost))) {
    const counted = countedPromptBound(body, exchange.targets);
    if (counted !== undefined && counted < promptTokens) promptTokens = counted;
  }
  const promptCost = promptTokens * inputPrice;
  // Written so that anything that is not a number refuses (fails closed) rather than admits.
  if (!(headroom.usd > 0 && headroom.usd >= promptCost)) throw refusal(headroom.binding, promptCost, headroom.usd);

  let outputCost = 0;
  if (producesOutput && outputPrice > 0) {
    const affordable = Number.isFinite(headroom.usd)
      ? Math.floor((headroom.usd - promptCost) / (outputPrice * choices))
      : ceiling;
    if (!(affordable >= 1)) throw refusal(headroom.binding, promptCost + outputPrice * choices, headroom.usd);
    const granted = Math.min(ceiling, affordable);
    // An explicit cap is what makes the reservation an upper bound; each target's request
    // carries it in the field that target understands (see applyOutputCap).
    if (requested === undefined || granted < requested) exchange.grantedMaxTokens = granted;
    outputCost = granted * outputPrice * choices;
  }
  const reservation = await ctx.ledger.reserve(scopes, promptCost + outputCost, now);
  if (!reservation) {
    const after = ctx.ledger.headroom(scopes, now);
    throw refusal(after.binding, promptCost + outputCost, after.usd);
  }
  exchange.reservation = reservation;
}

/** Providers that take `max_completion_tokens` (their reasoning models refuse `max_tokens`). */
const COMPLETION_TOKENS_FIELD = new Set(['openai', 'azure']);

/**
 * Puts the output cap the budget allows into a request for `provider`: in the field the caller
 * used, or, when the caller set none, in the one the provider takes.
 */
export function applyOutputCap(body: Record<string, unknown>, provider: string, cap: number | undefined): void {
  if (cap === undefined) return;
  const useCompletionField =
    body.max_completion_tokens !== undefined ||
    (body.max_tokens === undefined && COMPLETION_TOKENS_FIELD.has(provider));
  if (useCompletionField) body.max_completion_tokens = cap;
  else body.max_tokens = cap;
}
