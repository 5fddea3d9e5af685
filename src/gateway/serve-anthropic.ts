import type { FastifyReply } from 'fastify';
import type { Json } from './admission.ts';
import type { GatewayContext } from './context.ts';
import { dispatch } from './dispatch.ts';
import type { Exchange } from './exchange.ts';
import type { Usage } from './metering/cost.ts';
import { applyOutputCap } from './policy/spend-reservation.ts';
import type { ChatRequest, HttpCall } from './providers/adapter.ts';
import { anthropicHeaders, messagesUrl } from './providers/anthropic/request.ts';
import type { Target } from './routing/model-registry.ts';
import { usageHeaders } from './serve-openai.ts';
import { SseSplitter } from './sse.ts';
import { SseResponse } from './sse-response.ts';
import {
  AnthropicUsageTap,
  ChunksToMessageEvents,
  chatToMessages,
  usageFromAnthropicMessage,
} from './translate/anthropic-messages.ts';
import { checkStreamAnswer, readAnswer, readWith } from './upstream-answer.ts';

/** Request headers an Anthropic caller may set that the Anthropic API should see too. */
const FORWARDED = ['anthropic-beta'];

function native(target: Target): boolean {
  return target.adapter.spec.format === 'anthropic';
}

/**
 * The call for one target. An Anthropic target gets the caller's own Messages body (the
 * provider's model id and the output cap swapped in) — no translation either way; any other
 * target gets the OpenAI form of it, through its adapter.
 */
function build(exchange: Exchange, body: Json, chat: ChatRequest, stream: boolean) {
  return async (target: Target): Promise<HttpCall> => {
    if (native(target)) {
      const request: Json = { ...body, model: target.upstreamModel };
      if (exchange.grantedMaxTokens !== undefined) request.max_tokens = exchange.grantedMaxTokens;
      const headers = anthropicHeaders(target.credential);
      for (const name of FORWARDED) {
        const value = exchange.request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      return { url: messagesUrl(target.credential), headers, body: JSON.stringify(request) };
    }
    const request = { ...chat, model: target.upstreamModel } as ChatRequest;
    applyOutputCap(request, target.provider, exchange.grantedMaxTokens);
    return target.adapter.chatRequest(request, target.credential, stream);
  };
}

/** `POST /v1/messages` without streaming, served by any provider. */
export async function serveAnthropicJson(
  ctx: GatewayContext,
  exchange: Exchange,
  reply: FastifyReply,
  body: Json,
  chat: ChatRequest,
): Promise<void> {
  exchange.watchDisconnect(reply);
  const dispatched = await dispatch(ctx, exchange, build(exchange, body, chat, false));
  const { response, target } = dispatched;
  const payload = await readAnswer(ctx, exchange, dispatched);
  let usage: Usage | undefined;
  let out: Uint8Array | string = payload;
  if (native(target)) {
    usage = usageFromAnthropicMessage(payload);
  } else {
    const translated = readWith(target, response.statusCode, () =>
      target.adapter.chatResponse(payload, target.upstreamModel),
    );
    usage = translated.usage;
    out = JSON.stringify(chatToMessages(translated.body, String(body.model)));
  }
  usageHeaders(reply, exchange, usage);
  exchange.firstByteAt = performance.now();
  exchange.finish(200, usage);
  reply.code(200).header('content-type', 'application/json').send(out);
}

/** `POST /v1/messages` with `stream: true`: Anthropic's events, whichever provider serves. */
export async function serveAnthropicStream(
  ctx: GatewayContext,
  exchange: Exchange,
  reply: FastifyReply,
  body: Json,
  chat: ChatRequest,
): Promise<void> {
  exchange.streamed = true;
  exchange.watchDisconnect(reply);
  const dispatched = await dispatch(ctx, exchange, build(exchange, body, chat, true));
  checkStreamAnswer(dispatched);
  const { response, target } = dispatched;
  const stream = new SseResponse(reply, exchange);
  let usage: Usage | undefined;
  try {
    if (native(target)) {
      // Anthropic to Anthropic: events pass as received; usage is read on the way.
      const splitter = new SseSplitter();
      const tap = new AnthropicUsageTap();
      const forward = async (event: string) => {
        tap.observe(event);
        await stream.write(event);
      };
      for await (const chunk of response.body) for (const event of splitter.push(chunk as Buffer)) await forward(event);
      const rest = splitter.rest();
      if (rest.trim() !== '') await forward(rest);
      usage = tap.usage;
    } else {
      const decoder = target.adapter.chatStream(target.upstreamModel);
      const events = new ChunksToMessageEvents(String(body.model));
      for await (const bytes of response.body) {
        for (const chunk of decoder.push(bytes as Buffer))
          for (const event of events.push(chunk)) await stream.write(event);
      }
      for (const chunk of decoder.end()) for (const event of events.push(chunk)) await stream.write(event);
      usage = decoder.usage;
      for (const event of events.end(usage)) await stream.write(event);
    }
    exchange.finish(200, usage);
  } catch (error) {
    const failure = stream.fail(error, target.provider, 'anthropic');
    exchange.finish(exchange.abort.signal.aborted ? 499 : failure.status, usage, failure.code);
  } finally {
    stream.end();
  }
}
