import type { FastifyReply } from 'fastify';
import { renderError, TollgateError } from '../errors.ts';
import type { GatewayContext } from './context.ts';
import type { Exchange } from './exchange.ts';
import { type Usage, usageFromOpenAI } from './metering/cost.ts';
import { permittedTargets } from './policy/access-rules.ts';
import { authenticate } from './policy/authenticate.ts';
import { reserveSpend } from './policy/spend-reservation.ts';
import { eventData, SseSplitter } from './sse.ts';
import { sendUpstream } from './upstream.ts';

type Json = Record<string, unknown>;

/** The request body as a JSON object, or the 400 that says it is not one. */
export function jsonObject(body: unknown): Json {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TollgateError('TG_ERR_INVALID_REQUEST', 'the body must be a JSON object');
  }
  return body as Json;
}

/**
 * Authenticates the caller and resolves the requested model to its target. Recorded on the
 * exchange as it goes, so a refusal after authentication is still a usage record.
 */
export async function admit(
  ctx: GatewayContext,
  exchange: Exchange,
  body: Json,
  producesOutput: boolean,
): Promise<void> {
  const key = await authenticate(ctx.keys, exchange.request.headers, ctx.clock());
  exchange.key = key;
  const name = body.model;
  if (typeof name !== 'string' || name === '') {
    throw new TollgateError('TG_ERR_INVALID_REQUEST', '"model" is required and must be a string');
  }
  exchange.requestedModel = name;
  const model = ctx.models.find(key.orgId, name);
  if (!model || model.targets.length === 0) throw new TollgateError('TG_ERR_MODEL_NOT_FOUND', name);
  exchange.model = model;
  const targets = key.rules ? permittedTargets(key.rules, model) : model.targets;
  exchange.target = targets[0];
  if (key.rateLimits) {
    const decision = ctx.limiter.admit(key.id, key.rateLimits, ctx.clock());
    if (!decision.ok) {
      throw new TollgateError('TG_ERR_RATE_LIMITED', `key "${key.name}" is limited to ${decision.reason}`).withHeaders({
        'retry-after': String(decision.retryAfterSeconds),
      });
    }
    exchange.rateAdmitted = true;
  }
  await reserveSpend(ctx, exchange, body, producesOutput);
}

function usageHeaders(reply: FastifyReply, exchange: Exchange, usage: Usage): void {
  reply.header('x-tollgate-cost-usd', exchange.costOf(usage).toFixed(8));
  reply.header('x-tollgate-prompt-tokens', String(usage.promptTokens));
  reply.header('x-tollgate-completion-tokens', String(usage.completionTokens));
  reply.header('x-tollgate-cached-tokens', String(usage.cachedTokens));
}

/** Tells the caller when its output was capped to what its budget could pay for. */
function grantHeader(reply: FastifyReply, exchange: Exchange): void {
  if (exchange.grantedMaxTokens !== undefined) reply.header('x-tollgate-max-tokens', String(exchange.grantedMaxTokens));
}

/**
 * Forwards a non-streaming OpenAI-format call and sends the provider's body back unchanged,
 * with usage headers read from it.
 */
export async function forwardJson(
  ctx: GatewayContext,
  exchange: Exchange,
  reply: FastifyReply,
  path: string,
  body: Json,
): Promise<void> {
  const target = exchange.target as NonNullable<Exchange['target']>;
  exchange.watchDisconnect(reply);
  const response = await sendUpstream({
    target,
    path,
    body: JSON.stringify({ ...body, model: target.upstreamModel }),
    signal: exchange.abort.signal,
    timeoutMs: ctx.upstreamTimeoutMs,
  });
  const payload = Buffer.from(await response.body.arrayBuffer());
  let usage: Usage | undefined;
  try {
    usage = usageFromOpenAI((JSON.parse(payload.toString('utf8')) as { usage?: never }).usage);
  } catch {
    throw new TollgateError(
      'TG_ERR_PROVIDER_ERROR',
      target.provider,
      `${response.statusCode} with a body that is not JSON`,
    );
  }
  if (usage) usageHeaders(reply, exchange, usage);
  grantHeader(reply, exchange);
  exchange.firstByteAt = performance.now();
  exchange.finish(response.statusCode, usage);
  reply.code(response.statusCode).header('content-type', 'application/json').send(payload);
}

/**
 * Forwards a streaming chat call event by event as the provider sends them. Usage is always
 * requested from the provider; the extra usage-only event is dropped unless the caller asked
 * for it with `stream_options.include_usage`.
 */
export async function forwardStream(
  ctx: GatewayContext,
  exchange: Exchange,
  reply: FastifyReply,
  body: Json,
): Promise<void> {
  const target = exchange.target as NonNullable<Exchange['target']>;
  const options = (body.stream_options ?? {}) as Json;
  const callerWantsUsage = options.include_usage === true;
  exchange.streamed = true;
  exchange.watchDisconnect(reply);
  const response = await sendUpstream({
    target,
    path: '/chat/completions',
    body: JSON.stringify({ ...body, model: target.upstreamModel, stream_options: { ...options, include_usage: true } }),
    signal: exchange.abort.signal,
    timeoutMs: ctx.upstreamTimeoutMs,
  });

  reply.hijack();
  const raw = reply.raw;
  if (exchange.grantedMaxTokens !== undefined)
    raw.setHeader('x-tollgate-max-tokens', String(exchange.grantedMaxTokens));
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const splitter = new SseSplitter();
  let usage: Usage | undefined;
  const forward = async (event: string): Promise<void> => {
    if (event.includes('"usage":{')) {
      const data = eventData(event) as { usage?: never; choices?: unknown[] } | undefined;
      usage = usageFromOpenAI(data?.usage) ?? usage;
      // The usage-only event has empty choices (vLLM sends null or none): drop it unless asked for.
      if (!callerWantsUsage && !(Array.isArray(data?.choices) && data.choices.length > 0)) return;
    }
    exchange.firstByteAt ??= performance.now();
    if (!raw.write(event)) await new Promise((resolve) => raw.once('drain', resolve));
  };
  try {
    for await (const chunk of response.body) {
      for (const event of splitter.push(chunk as Buffer)) await forward(event);
    }
    const rest = splitter.rest();
    if (rest.trim() !== '') await forward(rest);
    exchange.finish(200, usage);
  } catch (error) {
    // Headers are gone: the only way left to tell the caller is an error event.
    const failure =
      error instanceof TollgateError
        ? error
        : new TollgateError('TG_ERR_PROVIDER_UNREACHABLE', target.provider, 'stream interrupted');
    exchange.finish(exchange.abort.signal.aborted ? 499 : failure.status, usage, failure.code);
    if (!raw.destroyed) raw.write(`data: ${renderError(failure, 'openai')}\n\n`);
  } finally {
    raw.end();
  }
}
