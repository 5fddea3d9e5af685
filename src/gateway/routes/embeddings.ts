import type { FastifyInstance } from 'fastify';
import { TollgateError } from '../../errors.ts';
import { admit, jsonObject } from '../admission.ts';
import type { GatewayContext } from '../context.ts';
import { dispatch } from '../dispatch.ts';
import { usageHeaders } from '../doors/usage-headers.ts';
import { handle } from '../handle.ts';
import { usageFromOpenAI } from '../metering/cost.ts';
import { embeddingsUsage } from '../metering/usage-fallback.ts';
import type { ChatRequest } from '../providers/adapter.ts';
import { checkEmbeddingsRequest } from '../request-checks.ts';
import { readAnswer, readWith } from '../upstream-answer.ts';

/**
 * `POST /v1/embeddings`: OpenAI Embeddings. An OpenAI-format provider's answer goes back as it
 * came; another provider's is translated by its adapter. A provider that reports no usage has
 * the input counted.
 */
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
      exchange.watchDisconnect(reply);
      const dispatched = await dispatch(ctx, exchange, (target) => {
        if (!target.adapter.embeddingsRequest) {
          throw new TollgateError('TG_ERR_INVALID_REQUEST', `provider ${target.provider} does not offer embeddings`);
        }
        return target.adapter.embeddingsRequest(
          { ...body, model: target.upstreamModel } as ChatRequest,
          target.credential,
        );
      });
      const { response, target } = dispatched;
      const payload = await readAnswer(ctx, exchange, dispatched);
      let out: Uint8Array | string = payload;
      let usage: ReturnType<typeof usageFromOpenAI>;
      if (target.adapter.spec.format === 'openai') {
        const answer = readWith(target, response.statusCode, () =>
          jsonObject(JSON.parse(Buffer.from(payload).toString())),
        );
        usage = usageFromOpenAI(answer.usage as never);
      } else {
        const translated = readWith(target, response.statusCode, () =>
          target.adapter.embeddingsResponse?.(payload, target.upstreamModel, body),
        );
        usage = translated?.usage;
        out = JSON.stringify(translated?.body ?? {});
      }
      usage ??= { ...embeddingsUsage(body), source: 'counted' };
      usageHeaders(reply, exchange, usage);
      exchange.firstByteAt = performance.now();
      exchange.finish(200, usage);
      reply.code(200).header('content-type', 'application/json').send(out);
    }),
  );
}
