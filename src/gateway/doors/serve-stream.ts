import type { FastifyReply } from 'fastify';
import type { Json } from '../admission.ts';
import type { GatewayContext } from '../context.ts';
import { dispatch } from '../dispatch.ts';
import type { Exchange } from '../exchange.ts';
import type { Usage } from '../metering/cost.ts';
import type { ChatRequest } from '../providers/adapter.ts';
import { SseSplitter } from '../sse.ts';
import { SseResponse } from '../sse-response.ts';
import { checkStreamAnswer } from '../upstream-answer.ts';
import { countedPromptTokens, countedUsage, NO_USAGE, withStreamedOutput } from './counted-usage.ts';
import type { FrontDoor, StreamTap, StreamTranslator } from './door.ts';
import { callFor, clientGone } from './provider-call.ts';

/**
 * A streamed answer, forwarded event by event as the provider sends it. Usage is observed as it
 * arrives, so a stream that ends badly is billed by the rules:
 * - finished: the usage the provider reported, or else counted;
 * - the client went away (499): what the provider reported before, or else the prompt and the
 *   output streamed so far, counted;
 * - the provider failed mid-stream: its error status and code, with the usage it reported
 *   before failing (none: zero); the caller gets the error as the stream's last event.
 */
export async function serveStream(
  ctx: GatewayContext,
  door: FrontDoor,
  exchange: Exchange,
  reply: FastifyReply,
  body: Json,
  chat: ChatRequest,
): Promise<void> {
  exchange.streamed = true;
  exchange.watchDisconnect(reply);
  let dispatched: Awaited<ReturnType<typeof dispatch>>;
  try {
    dispatched = await dispatch(ctx, exchange, callFor(door, exchange, body, chat, true));
    checkStreamAnswer(dispatched);
  } catch (error) {
    if (clientGone(exchange, error)) exchange.finish(499, countedUsage(chat, ''), 'TG_ERR_CLIENT_CLOSED');
    throw error;
  }
  const { response, target } = dispatched;
  const stream = new SseResponse(reply, exchange);
  const native = door.native(target);
  const tap: StreamTap | undefined = native ? door.nativeTap(body, target) : undefined;
  const decoder = native ? undefined : target.adapter.chatStream(target.upstreamModel);
  const translator: StreamTranslator | undefined = decoder
    ? door.streamFromChat(body, () => countedPromptTokens(chat))
    : undefined;
  const reported = (): Usage | undefined => (tap ? tap.usage : decoder?.usage);
  const output = () => (tap ? tap.outputText : (translator?.outputText ?? ''));
  try {
    if (tap) {
      const splitter = new SseSplitter();
      const forward = async (event: string) => {
        if (tap.observe(event)) await stream.write(event);
      };
      for await (const chunk of response.body) for (const event of splitter.push(chunk as Buffer)) await forward(event);
      const rest = splitter.rest();
      if (rest.trim() !== '') await forward(rest);
      if (tap.error) {
        // The provider's own error event went through as it came: it is already in the caller's format.
        exchange.finish(tap.error.status, tap.usage ?? NO_USAGE, tap.error.code);
        return;
      }
    } else if (decoder && translator) {
      for await (const bytes of response.body) {
        for (const chunk of decoder.push(bytes as Buffer))
          for (const event of translator.push(chunk)) await stream.write(event);
      }
      for (const chunk of decoder.end()) for (const event of translator.push(chunk)) await stream.write(event);
      const usage = decoder.usage ?? countedUsage(chat, translator.outputText);
      for (const event of translator.end(usage)) await stream.write(event);
    }
    exchange.finish(200, reported() ?? countedUsage(chat, output()));
  } catch (error) {
    if (clientGone(exchange, error)) {
      exchange.finish(499, withStreamedOutput(reported(), countedUsage(chat, output())), 'TG_ERR_CLIENT_CLOSED');
      return;
    }
    const ending = translator ?? tap;
    const failure = stream.fail(error, target.provider, {
      streamError: (failed) => ending?.streamError?.(failed) ?? door.streamError(failed),
    });
    exchange.finish(failure.status, reported() ?? NO_USAGE, failure.code);
  } finally {
    stream.end();
  }
}
