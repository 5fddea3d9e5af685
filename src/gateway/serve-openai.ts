import type { FastifyReply } from 'fastify';
import { TollgateError } from '../errors.ts';
import type { Json } from './admission.ts';
import type { GatewayContext } from './context.ts';
import { dispatch } from './dispatch.ts';
import type { Exchange } from './exchange.ts';
import { type Usage, usageFromOpenAI } from './metering/cost.ts';
import { CompletionText, embeddingsUsage } from './metering/usage-fallback.ts';
import { applyOutputCap } from './policy/spend-reservation.ts';
import type { ChatRequest, OpenAIObject } from './providers/adapter.ts';
import type { Target } from './routing/model-registry.ts';
import { eventData, SseSplitter } from './sse.ts';
import { SseResponse } from './sse-response.ts';
import { checkStreamAnswer, readAnswer, readWith } from './upstream-answer.ts';

/** The request as `target` is to get it: the provider's own model id, and the output cap. */
function forTarget(body: Json, target: Target, exchange: Exchange): ChatRequest {
  const request = { ...body, model: target.upstreamModel } as ChatRequest;
  applyOutputCap(request, target.provider, exchange.grantedMaxTokens);
  return request;
}

function passesThrough(target: Target): boolean {
  return target.adapter.spec.format === 'openai';
}

export function usageHeaders(reply: FastifyReply, exchange: Exchange, usage: Usage | undefined): void {
  if (exchange.grantedMaxTokens !== undefined) reply.header('x-tollgate-max-tokens', String(exchange.grantedMaxTokens));
  if (!usage) return;
  reply.header('x-tollgate-cost-usd', exchange.costOf(usage).toFixed(8));
  reply.header('x-tollgate-prompt-tokens', String(usage.promptTokens));
  reply.header('x-tollgate-completion-tokens', String(usage.completionTokens));
  reply.header('x-tollgate-cached-tokens', String(usage.cachedTokens));
}

/**
 * A non-streaming OpenAI-format call (chat or embeddings). From an OpenAI-format provider the
 * bytes go back as they came, with usage headers read from them; from another provider the
 * adapter's translation is sent.
 */
export async function serveOpenAIJson(
  ctx: GatewayContext,
  exchange: Exchange,
  reply: FastifyReply,
  kind: 'chat' | 'embeddings',
  body: Json,
): Promise<void> {
  exchange.watchDisconnect(reply);
  const dispatched = await dispatch(ctx, exchange, (target) => {
    const request = forTarget(body, target, exchange);
    if (kind === 'chat') return target.adapter.chatRequest(request, target.credential, false);
    if (!target.adapter.embeddingsRequest) {
      throw new TollgateError('TG_ERR_INVALID_REQUEST', `provider ${target.provider} does not offer embeddings`);
    }
    return target.adapter.embeddingsRequest(request, target.credential);
  });
  const { response, target } = dispatched;
  const payload = await readAnswer(ctx, exchange, dispatched);
  let usage: Usage | undefined;
  let out: Uint8Array | string = payload;
  if (passesThrough(target)) {
    // Usage comes last: decode only the end of a long answer, the whole only if it is not there.
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    usage =
      usageIn(bytes.subarray(Math.max(0, bytes.length - 4096)).toString('utf8')) ??
      (bytes.length > 4096 ? usageIn(bytes.toString('utf8')) : undefined);
  } else {
    const adapter = target.adapter;
    const translated = readWith(target, response.statusCode, () =>
      kind === 'chat'
        ? adapter.chatResponse(payload, target.upstreamModel)
        : adapter.embeddingsResponse?.(payload, target.upstreamModel, body),
    );
    usage = translated?.usage;
    out = JSON.stringify(translated?.body ?? {});
  }
  usage ??= countedUsage(kind, body, out);
  usageHeaders(reply, exchange, usage);
  exchange.firstByteAt = performance.now();
  exchange.finish(200, usage);
  reply.code(200).header('content-type', 'application/json').send(out);
}

/**
 * The `usage` object of an OpenAI response, read without parsing the rest of it: usage comes
 * last, so only that small object is parsed however long the answer is.
 */
export function usageIn(text: string): Usage | undefined {
  const at = text.lastIndexOf('"usage"');
  if (at === -1) return undefined;
  let open = text.indexOf(':', at) + 1;
  while (text.charCodeAt(open) === 32 || text.charCodeAt(open) === 10 || text.charCodeAt(open) === 13) open++;
  if (text[open] !== '{') return undefined;
  let depth = 0;
  for (let index = open; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (char === 123) depth++;
    else if (char === 125 && --depth === 0) {
      try {
        return usageFromOpenAI(JSON.parse(text.slice(open, index + 1)));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Usage counted from the request and the answer, for a provider that reported none. */
function countedUsage(kind: 'chat' | 'embeddings', body: Json, answer: Uint8Array | string): Usage {
  if (kind === 'embeddings') return embeddingsUsage(body);
  const text = new CompletionText();
  try {
    text.add(JSON.parse(typeof answer === 'string' ? answer : Buffer.from(answer).toString('utf8')) as OpenAIObject);
  } catch {
    // Not JSON: only the prompt can be counted.
  }
  return text.usage(body);
}

/** The usage-only chunk at a stream's end: empty (or, from vLLM, null or no) choices. */
function isUsageOnly(chunk: { choices?: unknown; usage?: unknown }): boolean {
  return !!chunk.usage && !(Array.isArray(chunk.choices) && chunk.choices.length > 0);
}

/**
 * A streaming chat call, forwarded event by event as the provider sends them. Usage is always
 * asked of the provider; the usage-only chunk is dropped unless the caller asked for it with
 * `stream_options.include_usage`.
 */
export async function serveOpenAIStream(
  ctx: GatewayContext,
  exchange: Exchange,
  reply: FastifyReply,
  body: Json,
): Promise<void> {
  const callerWantsUsage = (body.stream_options as Json | undefined)?.include_usage === true;
  exchange.streamed = true;
  exchange.watchDisconnect(reply);
  const dispatched = await dispatch(ctx, exchange, (target) =>
    target.adapter.chatRequest(forTarget(body, target, exchange), target.credential, true),
  );
  checkStreamAnswer(dispatched);
  const { response, target } = dispatched;
  const stream = new SseResponse(reply, exchange);
  let usage: Usage | undefined;
  try {
    if (passesThrough(target)) {
      // OpenAI in, OpenAI out: events are forwarded as received, only the usage one is read.
      const splitter = new SseSplitter();
      const events: string[] = [];
      const forward = async (event: string) => {
        if (!usage) events.push(event);
        if (event.includes('"usage":{')) {
          const data = eventData(event) as { usage?: never; choices?: unknown } | undefined;
          usage = usageFromOpenAI(data?.usage) ?? usage;
          if (!callerWantsUsage && data && isUsageOnly(data)) return;
        }
        await stream.write(event);
      };
      for await (const chunk of response.body) for (const event of splitter.push(chunk as Buffer)) await forward(event);
      const rest = splitter.rest();
      if (rest.trim() !== '') await forward(rest);
      if (!usage) {
        const text = new CompletionText();
        for (const event of events) text.addEvent(event);
        usage = text.usage(body);
      }
    } else {
      const decoder = target.adapter.chatStream(target.upstreamModel);
      const text = new CompletionText();
      const forward = async (chunks: OpenAIObject[]) => {
        for (const chunk of chunks) {
          if (!decoder.usage) text.add(chunk);
          if (!callerWantsUsage && isUsageOnly(chunk)) continue;
          await stream.write(`data: ${JSON.stringify(chunk)}\n\n`);
        }
      };
      for await (const bytes of response.body) await forward(decoder.push(bytes as Buffer));
      await forward(decoder.end());
      usage = decoder.usage ?? text.usage(body);
      await stream.write('data: [DONE]\n\n');
    }
    exchange.finish(200, usage);
  } catch (error) {
    const failure = stream.fail(error, target.provider, 'openai');
    exchange.finish(exchange.abort.signal.aborted ? 499 : failure.status, usage, failure.code);
  } finally {
    stream.end();
  }
}
