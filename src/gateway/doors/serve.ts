import type { FastifyInstance, FastifyReply } from 'fastify';
import { TollgateError } from '../../errors.ts';
import { admit, type Json, jsonObject } from '../admission.ts';
import type { GatewayContext } from '../context.ts';
import { dispatch } from '../dispatch.ts';
import type { Exchange } from '../exchange.ts';
import { handle } from '../handle.ts';
import type { Usage } from '../metering/cost.ts';
import type { ChatRequest } from '../providers/adapter.ts';
import { readAnswer, readWith } from '../upstream-answer.ts';
import { chatOutputText } from './chunk-text.ts';
import { countedUsage } from './counted-usage.ts';
import type { FrontDoor } from './door.ts';
import { callFor, clientGone } from './provider-call.ts';
import { serveStream } from './serve-stream.ts';
import { usageHeaders } from './usage-headers.ts';

/**
 * One route per front door, and one flow for all of them: the body is checked and turned into
 * the internal chat request, policy admits it (key, model, rules, rate limits, reservation),
 * and the answer comes back whole or streamed — passed through untouched from a target that
 * speaks the door's format, translated from any other. Every path ends in exactly one
 * `exchange.finish` with the usage the metering rules give (docs/metering.md).
 */
export function doorRoute(app: FastifyInstance, ctx: GatewayContext, door: FrontDoor): void {
  app.post(
    door.path,
    handle(ctx, door.endpoint, async (exchange, request, reply) => {
      const body = jsonObject(request.body);
      const chat = door.toChat(body);
      await admit(ctx, exchange, chat, true);
      if (body.stream === true) await serveStream(ctx, door, exchange, reply, body, chat);
      else await serveJson(ctx, door, exchange, reply, body, chat);
    }),
  );
}

async function serveJson(
  ctx: GatewayContext,
  door: FrontDoor,
  exchange: Exchange,
  reply: FastifyReply,
  body: Json,
  chat: ChatRequest,
): Promise<void> {
  exchange.watchDisconnect(reply);
  let usage: Usage | undefined;
  let out: Uint8Array | string;
  try {
    const dispatched = await dispatch(ctx, exchange, callFor(door, exchange, body, chat, false));
    const { response, target } = dispatched;
    const payload = await readAnswer(ctx, exchange, dispatched);
    if (door.native(target)) {
      const answer = readWith(target, response.statusCode, () =>
        jsonObject(JSON.parse(Buffer.from(payload).toString())),
      );
      const read = door.nativeAnswer(answer, target);
      if (read.error) throw read.error;
      usage = read.usage ?? countedUsage(chat, read.outputText);
      out = payload;
    } else {
      const translated = readWith(target, response.statusCode, () =>
        target.adapter.chatResponse(payload, target.upstreamModel),
      );
      usage = translated.usage;
      const answer = door.fromChat(translated.body, body);
      usage ??= countedUsage(chat, chatOutputText(translated.body));
      out = JSON.stringify(answer);
    }
  } catch (error) {
    if (clientGone(exchange, error)) {
      exchange.finish(499, countedUsage(chat, ''), 'TG_ERR_CLIENT_CLOSED');
      throw new TollgateError('TG_ERR_CLIENT_CLOSED');
    }
    throw error;
  }
  usageHeaders(reply, exchange, usage);
  exchange.firstByteAt = performance.now();
  exchange.finish(200, usage);
  reply.code(200).header('content-type', 'application/json').send(out);
}
