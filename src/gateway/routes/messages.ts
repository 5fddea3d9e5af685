import type { FastifyInstance } from 'fastify';
import { TollgateError } from '../../errors.ts';
import { admit, jsonObject } from '../admission.ts';
import type { GatewayContext } from '../context.ts';
import { handle } from '../handle.ts';
import { checkMessagesRequest } from '../request-checks.ts';
import { serveAnthropicJson, serveAnthropicStream } from '../serve-anthropic.ts';
import { messagesToChat } from '../translate/anthropic-messages.ts';

/**
 * `POST /v1/messages`: Anthropic's Messages API, so the Anthropic SDK and Claude Code work —
 * served by any provider. Errors come in Anthropic's dialect (see http-errors.ts).
 */
export function messagesRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.post(
    '/v1/messages',
    handle(ctx, 'messages', async (exchange, request, reply) => {
      const body = jsonObject(request.body);
      if (!Array.isArray(body.messages) || body.messages.length === 0) {
        throw new TollgateError('TG_ERR_INVALID_REQUEST', '"messages" must be a non-empty array');
      }
      checkMessagesRequest(body);
      const chat = messagesToChat(body);
      // Policy works on the OpenAI form: the same rules, reservation and output cap for every door.
      await admit(ctx, exchange, { ...chat, model: body.model }, true);
      if (body.stream === true) await serveAnthropicStream(ctx, exchange, reply, body, chat);
      else await serveAnthropicJson(ctx, exchange, reply, body, chat);
    }),
  );
}
