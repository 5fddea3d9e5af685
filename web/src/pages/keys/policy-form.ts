import type { AccessRules, ApiKey, RateLimits, WindowUnit } from '../../api/types.ts';
import { windowProblem, windowText } from '../../lib/windows.ts';

/** Number inputs give '' when empty. */
export type NumberValue = number | string;

export function toNumber(value: NumberValue): number | undefined {
  if (value === '' || value === null || value === undefined) return undefined;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : undefined;
}

export interface LimitsValues {
  allTimeUsd: NumberValue;
  recurringUsd: NumberValue;
  recurringCount: NumberValue;
  recurringUnit: WindowUnit;
  rpm: NumberValue;
  tpm: NumberValue;
  maxParallel: NumberValue;
}

export type Pricing = 'any' | 'free' | 'paid';

export interface RulesValues {
  allowModels: string[];
  denyModels: string[];
  allowProviders: string[];
  denyProviders: string[];
  pricing: Pricing;
  maxInputPrice: NumberValue;
  maxOutputPrice: NumberValue;
}

export const emptyLimits: LimitsValues = {
  allTimeUsd: '',
  recurringUsd: '',
  recurringCount: 1,
  recurringUnit: 'month',
  rpm: '',
  tpm: '',
  maxParallel: '',
};

export const emptyRules: RulesValues = {
  allowModels: [],
  denyModels: [],
  allowProviders: [],
  denyProviders: [],
  pricing: 'any',
  maxInputPrice: '',
  maxOutputPrice: '',
};

export function limitsOf(key: ApiKey): LimitsValues {
  const recurring = key.spendLimit.recurring;
  return {
    allTimeUsd: key.spendLimit.allTimeUsd ?? '',
    recurringUsd: recurring?.usd ?? '',
    recurringCount: recurring?.count ?? 1,
    recurringUnit: recurring?.unit ?? 'month',
    rpm: key.rateLimits.rpm ?? '',
    tpm: key.rateLimits.tpm ?? '',
    maxParallel: key.rateLimits.maxParallel ?? '',
  };
}

export function rulesOf(rules: AccessRules): RulesValues {
  const free = rules.allowPricing?.includes('free') || rules.denyPricing?.includes('paid');
  const paid = rules.allowPricing?.includes('paid') || rules.denyPricing?.includes('free');
  return {
    allowModels: rules.allowModels ?? [],
    denyModels: rules.denyModels ?? [],
    allowProviders: rules.allowProviders ?? [],
    denyProviders: rules.denyProviders ?? [],
    pricing: free && !paid ? 'free' : paid && !free ? 'paid' : 'any',
    maxInputPrice: rules.maxInputPrice ?? '',
    maxOutputPrice: rules.maxOutputPrice ?? '',
  };
}

const positiveInteger = (value: NumberValue) => {
  const number = toNumber(value);
  return number === undefined || (Number.isInteger(number) && number >= 1) ? null : 'Enter a whole number of 1 or more';
};
const amount = (value: NumberValue) => {
  const number = toNumber(value);
  return number === undefined || number >= 0 ? null : 'Enter an amount of 0 or more';
};

export const validateLimits = {
  allTimeUsd: amount,
  recurringUsd: amount,
  recurringCount: (value: NumberValue, values: LimitsValues) =>
    toNumber(values.recurringUsd) === undefined ? null : (windowProblem(toNumber(value), values.recurringUnit) ?? null),
  rpm: positiveInteger,
  tpm: positiveInteger,
  maxParallel: positiveInteger,
};

export const validateRules = { maxInputPrice: amount, maxOutputPrice: amount };

/** The API body for limits: empty fields remove a limit. */
export function limitsBody(values: LimitsValues) {
  const recurringUsd = toNumber(values.recurringUsd);
  const recurringCount = toNumber(values.recurringCount) ?? 1;
  const rateLimits: RateLimits = {
    rpm: toNumber(values.rpm) ?? null,
    tpm: toNumber(values.tpm) ?? null,
    maxParallel: toNumber(values.maxParallel) ?? null,
  };
  return {
    spendLimit: {
      allTimeUsd: toNumber(values.allTimeUsd) ?? null,
      recurring:
        recurringUsd === undefined
          ? null
          : { usd: recurringUsd, window: windowText(recurringCount, values.recurringUnit) },
    },
    rateLimits,
  };
}

/** The API body for IAM rules: the rules are replaced whole. */
export function rulesBody(values: RulesValues): AccessRules {
  return {
    allowModels: values.allowModels,
    denyModels: values.denyModels,
    allowProviders: values.allowProviders,
    denyProviders: values.denyProviders,
    allowPricing: values.pricing === 'any' ? [] : [values.pricing],
    denyPricing: [],
    maxInputPrice: toNumber(values.maxInputPrice) ?? null,
    maxOutputPrice: toNumber(values.maxOutputPrice) ?? null,
  };
}

/** Rules as a short list of sentences, for tooltips and summaries. */
export function describeRules(rules: AccessRules): string[] {
  const lines: string[] = [];
  if (rules.allowModels?.length) lines.push(`Models allowed: ${rules.allowModels.join(', ')}`);
  if (rules.denyModels?.length) lines.push(`Models denied: ${rules.denyModels.join(', ')}`);
  if (rules.allowProviders?.length) lines.push(`Providers allowed: ${rules.allowProviders.join(', ')}`);
  if (rules.denyProviders?.length) lines.push(`Providers denied: ${rules.denyProviders.join(', ')}`);
  if (rules.allowPricing?.length) lines.push(`Only ${rules.allowPricing.join(' and ')} models`);
  if (rules.denyPricing?.length) lines.push(`No ${rules.denyPricing.join(' or ')} models`);
  if (rules.maxInputPrice != null) lines.push(`Input price at most $${rules.maxInputPrice} / 1M tokens`);
  if (rules.maxOutputPrice != null) lines.push(`Output price at most $${rules.maxOutputPrice} / 1M tokens`);
  return lines;
}
