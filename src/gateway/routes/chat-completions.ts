import type { FastifyInstance } from 'fastify';
import { TollgateError } from '../../errors.ts';
import { admit, jsonObject } from '../admission.ts';
import type { GatewayContext } from '../context.ts';
import { handle } from '../handle.ts';
import { checkChatRequest } from '../request-checks.ts';
import { serveOpenAIJson, serveOpenAIStream } from '../serve-openai.ts';

/** `POST /v1/chat/completions`: OpenAI Chat Completions, streaming and not. */
export function chatCompletionsRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.post(
    '/v1/chat/completions',
    handle(ctx, 'chat.completions', async (exchange, request, reply) => {
      const body = jsonObject(request.body);
      checkChatRequest(body);
      await admit(ctx, exchange, body, true);
      if (!Array.isArray(body.messages) || body.messages.length === 0) {
        throw new TollgateError('TG_ERR_INVALID_REQUEST', '"messages" must be a non-empty array');
      }
      if (body.stream !== undefined && typeof body.stream !== 'boolean') {
        throw new TollgateError('TG_ERR_INVALID_REQUEST', '"stream" must be true or false');
      }
      if (body.stream === true) await serveOpenAIStream(ctx, exchange, reply, body);
      else await serveOpenAIJson(ctx, exchange, reply, 'chat', body);
    }),
  );
}
