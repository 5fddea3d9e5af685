import type { FastifyInstance } from 'fastify';
import { TollgateError } from '../../errors.ts';
import { admit, jsonObject } from '../admission.ts';
import type { GatewayContext } from '../context.ts';
import { handle } from '../handle.ts';
import { checkEmbeddingsRequest } from '../request-checks.ts';
import { serveOpenAIJson } from '../serve-openai.ts';

/** `POST /v1/embeddings`: OpenAI Embeddings. */
export function embeddingsRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.post(
    '/v1/embeddings',
    handle(ctx, 'embeddings', async (exchange, request, reply) => {
      const body = jsonObject(request.body);
      checkEmbeddingsRequest(body);
      await admit(ctx, exchange, body, false);
      const input = body.input;
      if (typeof input !== 'string' && !(Array.isArray(input) && input.length > 0)) {
        throw new TollgateError('TG_ERR_INVALID_REQUEST', '"input" must be a string or a non-empty array');
      }
      await serveOpenAIJson(ctx, exchange, reply, 'embeddings', body);
    }),
  );
}
