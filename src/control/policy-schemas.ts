import { Type } from 'typebox';
import type { AccessRules, RateLimits } from '../store/schema.ts';
import { MAX_COUNT, MAX_PRICE } from './bounds.ts';

const Names = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 500 });
const Tiers = Type.Array(Type.Union([Type.Literal('free'), Type.Literal('paid')]), { maxItems: 2 });
const Price = Type.Union([Type.Null(), Type.Number({ minimum: 0, maximum: MAX_PRICE })]);

/** A key's IAM rules; replaces the key's rules whole when given. `*` at the end of a name is a wildcard. */
export const RulesBody = Type.Object(
  {
    allowModels: Type.Optional(Names),
    denyModels: Type.Optional(Names),
    allowProviders: Type.Optional(Names),
    denyProviders: Type.Optional(Names),
    allowPricing: Type.Optional(Tiers),
    denyPricing: Type.Optional(Tiers),
    maxInputPrice: Type.Optional(Price),
    maxOutputPrice: Type.Optional(Price),
  },
  { additionalProperties: false },
);

const PerMinute = Type.Union([Type.Null(), Type.Integer({ minimum: 1, maximum: MAX_COUNT })]);
/** Per-key rate limits; null removes one, absent keeps it. */
export const RateLimitsBody = Type.Object(
  { rpm: Type.Optional(PerMinute), tpm: Type.Optional(PerMinute), maxParallel: Type.Optional(PerMinute) },
  { additionalProperties: false },
);

/** Drops empty lists and nulls so that "no rules" is stored as `{}`. */
export function normaliseRules(rules: AccessRules): AccessRules {
  return Object.fromEntries(
    Object.entries(rules).filter(([, value]) => value != null && !(Array.isArray(value) && value.length === 0)),
  ) as AccessRules;
}

export function mergeRateLimits(current: RateLimits, change: RateLimits | undefined): RateLimits {
  if (!change) return current;
  const next: RateLimits = { ...current };
  for (const name of ['rpm', 'tpm', 'maxParallel'] as const) {
    if (change[name] === null) delete next[name];
    else if (change[name] !== undefined) next[name] = change[name];
  }
  return next;
}
