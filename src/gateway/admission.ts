import { TollgateError } from '../errors.ts';
import type { GatewayContext } from './context.ts';
import type { Exchange } from './exchange.ts';
import { permittedTargets } from './policy/access-rules.ts';
import { authenticate } from './policy/authenticate.ts';
import { reserveSpend } from './policy/spend-reservation.ts';
import { checkModelName } from './request-checks.ts';

export type Json = Record<string, unknown>;

/** The request body as a JSON object, or the 400 that says it is not one. */
export function jsonObject(body: unknown): Json {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TollgateError('TG_ERR_INVALID_REQUEST', 'the body must be a JSON object');
  }
  return body as Json;
}

/**
 * Everything between a request arriving and its forwarding: the key, the model, the key's
 * rules (which also narrow the model's targets), its rate limits, and the spend reservation.
 * Recorded on the exchange as it goes, so a refusal after authentication is still a usage
 * record and anything taken is given back by `Exchange.finish`.
 */
export async function admit(
  ctx: GatewayContext,
  exchange: Exchange,
  body: Json,
  producesOutput: boolean,
): Promise<void> {
  const key = await authenticate(ctx, exchange.request);
  exchange.key = key;
  const name = checkModelName(body.model);
  exchange.requestedModel = name;
  const model = ctx.models.find(key.orgId, name);
  if (!model || model.targets.length === 0) throw new TollgateError('TG_ERR_MODEL_NOT_FOUND', name);
  exchange.model = model;
  exchange.targets = key.rules ? permittedTargets(key.rules, model) : model.targets;
  exchange.target = exchange.targets[0];
  if (key.rateLimits) {
    const pending = ctx.limiter.admit(key.id, key.rateLimits, ctx.clock());
    const decision = pending instanceof Promise ? await pending : pending;
    if (!decision.ok) {
      throw new TollgateError('TG_ERR_RATE_LIMITED', `key "${key.name}" is limited to ${decision.reason}`).withHeaders({
        'retry-after': String(decision.retryAfterSeconds),
      });
    }
    exchange.rateAdmitted = true;
  }
  await reserveSpend(ctx, exchange, body, producesOutput);
}
