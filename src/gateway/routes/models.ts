import type { FastifyInstance } from 'fastify';
import { TollgateError } from '../../errors.ts';
import type { GatewayContext } from '../context.ts';
import { mayUse, permittedTargets } from '../policy/access-rules.ts';
import { authenticate } from '../policy/authenticate.ts';
import type { PublishedModel } from '../routing/model-registry.ts';

function describe(model: PublishedModel) {
  return {
    id: model.name,
    object: 'model',
    created: Math.floor(model.createdAt / 1000),
    owned_by: model.targets[0]?.provider ?? 'tollgate',
  };
}

/** The same model as Anthropic's Models API describes one. */
function describeForAnthropic(model: PublishedModel) {
  return {
    type: 'model',
    id: model.name,
    display_name: model.name,
    created_at: new Date(model.createdAt).toISOString(),
  };
}

/** Anthropic's clients (the SDK, Claude Code) send `anthropic-version`; they get Anthropic's shape. */
function isAnthropicClient(headers: Record<string, unknown>): boolean {
  return typeof headers['anthropic-version'] === 'string';
}

/**
 * `GET /v1/models` and `GET /v1/models/:model`: what this key may call, in OpenAI's format, or
 * Anthropic's for Anthropic clients.
 */
export function modelsRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/v1/models', async (request, reply) => {
    const key = await authenticate(ctx, request);
    const models = ctx.models
      .list(key.orgId)
      .filter((model) => model.targets.length > 0 && (!key.rules || mayUse(key.rules, model)))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (isAnthropicClient(request.headers)) {
      reply.send({
        data: models.map(describeForAnthropic),
        has_more: false,
        first_id: models[0]?.name ?? null,
        last_id: models.at(-1)?.name ?? null,
      });
    } else {
      reply.send({ object: 'list', data: models.map(describe) });
    }
  });

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request, reply) => {
    const key = await authenticate(ctx, request);
    const model = ctx.models.find(key.orgId, request.params.model);
    if (!model || model.targets.length === 0) throw new TollgateError('TG_ERR_MODEL_NOT_FOUND', request.params.model);
    if (key.rules) permittedTargets(key.rules, model);
    reply.send(isAnthropicClient(request.headers) ? describeForAnthropic(model) : describe(model));
  });
}
