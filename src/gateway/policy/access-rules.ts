import { TollgateError } from '../../errors.ts';
import type { AccessRules } from '../../store/schema.ts';
import type { PublishedModel, Target } from '../routing/model-registry.ts';

/** `gpt-4o*` matches every name starting with `gpt-4o`; anything else matches itself. */
function matches(patterns: string[] | undefined, name: string): boolean {
  if (!patterns) return false;
  for (const pattern of patterns) {
    if (pattern === name || (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1)))) return true;
  }
  return false;
}

const some = (list: unknown[] | undefined): list is unknown[] => list !== undefined && list.length > 0;

function tier(model: PublishedModel): 'free' | 'paid' {
  return model.prices.input === 0 && model.prices.output === 0 ? 'free' : 'paid';
}

const denied = {
  model: (message: string) => new TollgateError('TG_ERR_MODEL_NOT_ALLOWED', message),
  provider: (message: string) => new TollgateError('TG_ERR_PROVIDER_NOT_ALLOWED', message),
  pricing: (message: string) => new TollgateError('TG_ERR_PRICING_NOT_ALLOWED', message),
};

/**
 * Applies a key's IAM rules to a model and returns the targets the key may use, in order.
 * Deny rules are checked before allow rules, so deny wins. Throws the 403 that names the rule.
 */
export function permittedTargets(rules: AccessRules, model: PublishedModel): Target[] {
  const name = model.name;
  if (matches(rules.denyModels, name)) throw denied.model(`Model ${name} is denied`);
  const modelTier = tier(model);
  if (rules.denyPricing?.includes(modelTier))
    throw denied.pricing(`Model ${name} is ${modelTier}, and ${modelTier} models are denied`);
  if (some(rules.allowModels) && !matches(rules.allowModels, name)) {
    throw denied.model(`Model ${name} is not in the allowed models list`);
  }
  if (some(rules.allowPricing) && !rules.allowPricing.includes(modelTier)) {
    throw denied.pricing(
      `Model ${name} is ${modelTier}, and only ${rules.allowPricing.join(' and ')} models are allowed`,
    );
  }
  const { maxInputPrice, maxOutputPrice } = rules;
  if (
    (maxInputPrice != null && model.prices.input > maxInputPrice) ||
    (maxOutputPrice != null && model.prices.output > maxOutputPrice)
  ) {
    throw denied.pricing(`Model ${name} exceeds the maximum allowed price`);
  }
  if (!some(rules.denyProviders) && !some(rules.allowProviders)) return model.targets;
  const targets = model.targets.filter(
    (target) =>
      !matches(rules.denyProviders, target.provider) &&
      (!some(rules.allowProviders) || matches(rules.allowProviders, target.provider)),
  );
  if (targets.length === 0) {
    const provider = model.targets[0]?.provider ?? 'unknown';
    throw denied.provider(
      matches(rules.denyProviders, provider)
        ? `Provider ${provider} is denied`
        : `Provider ${provider} is not in the allowed providers list`,
    );
  }
  return targets;
}

/** Whether the key may call the model at all: what `/v1/models` lists. */
export function mayUse(rules: AccessRules, model: PublishedModel): boolean {
  try {
    return permittedTargets(rules, model).length > 0;
  } catch {
    return false;
  }
}

export function hasRules(rules: AccessRules): boolean {
  return Object.values(rules).some((value) => (Array.isArray(value) ? value.length > 0 : value != null));
}
