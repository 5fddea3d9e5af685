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

/** `GET /v1/models` and `GET /v1/models/:model`: what this key may call, in OpenAI's format. */
export function modelsRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/v1/models', async (request, reply) => {
    const key = await authenticate(ctx.keys, request.headers, ctx.clock());
    const data = ctx.models
      .list(key.orgId)
      .filter((model) => model.targets.length > 0 && (!key.rules || mayUse(key.rules, model)))
      .map(describe)
      .sort((a, b) => a.id.localeCompare(b.id));
    reply.send({ object: 'list', data });
  });

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request, reply) => {
    const key = await authenticate(ctx.keys, request.headers, ctx.clock());
    const model = ctx.models.find(key.orgId, request.params.model);
    if (!model || model.targets.length === 0) throw new TollgateError('TG_ERR_MODEL_NOT_FOUND', request.params.model);
    if (key.rules) permittedTargets(key.rules, model);
    reply.send(describe(model));
  });
}
