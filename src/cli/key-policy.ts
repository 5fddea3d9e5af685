import type { Command } from 'commander';
import { count, money } from './output.ts';
import { collectNames, type OrNone, orNull, positiveIntegerOrNone, usdOrNone } from './parse-options.ts';

/** A key's IAM rules as the API shows them; deny wins over allow, no rules allow everything. */
export interface AccessRules {
  allowModels?: string[];
  denyModels?: string[];
  allowProviders?: string[];
  denyProviders?: string[];
  allowPricing?: Array<'free' | 'paid'>;
  denyPricing?: Array<'free' | 'paid'>;
  maxInputPrice?: number | null;
  maxOutputPrice?: number | null;
}

export interface RateLimits {
  rpm?: number | null;
  tpm?: number | null;
  maxParallel?: number | null;
}

export interface RuleOptions {
  allowModels?: string[];
  denyModels?: string[];
  allowProviders?: string[];
  denyProviders?: string[];
  freeOnly?: boolean;
  maxInputPrice?: OrNone<number>;
  maxOutputPrice?: OrNone<number>;
  clearRules?: boolean;
}

export interface RateOptions {
  rpm?: OrNone<number>;
  tpm?: OrNone<number>;
  maxParallel?: OrNone<number>;
}

const LISTS = ['allowModels', 'denyModels', 'allowProviders', 'denyProviders'] as const;

/** The IAM rule and rate-limit options of `keys create` and `keys update`. */
export function withPolicyOptions(command: Command, update: boolean): Command {
  const list = update ? '; replaces that list, "none" empties it' : '';
  command
    .option(
      '--allow-models <names>',
      `only these models, comma-separated (gpt-4o* matches by prefix)${list}`,
      collectNames,
    )
    .option('--deny-models <names>', `never these models${list}`, collectNames)
    .option(
      '--allow-providers <ids>',
      `only models served by these providers (openai, anthropic, …)${list}`,
      collectNames,
    )
    .option('--deny-providers <ids>', `never these providers${list}`, collectNames)
    .option('--free-only', 'only models whose input and output prices are both 0');
  if (update) command.option('--no-free-only', 'drop the --free-only rule');
  command
    .option(
      '--max-input-price <usd>',
      'refuse models above this USD per million input tokens; "none" removes it',
      usdOrNone,
    )
    .option(
      '--max-output-price <usd>',
      'refuse models above this USD per million output tokens; "none" removes it',
      usdOrNone,
    );
  if (update) command.option('--clear-rules', 'remove every rule first (then apply the rule options given)');
  return command
    .option('--rpm <n>', 'requests per minute; "none" removes the limit', positiveIntegerOrNone)
    .option('--tpm <n>', 'tokens per minute (prompt + completion); "none" removes the limit', positiveIntegerOrNone)
    .option('--max-parallel <n>', 'requests in flight at once; "none" removes the limit', positiveIntegerOrNone);
}

/**
 * The rules to send, or undefined when no rule option was given. The API replaces a key's
 * rules whole, so an update starts from `current` and changes only what the options name.
 */
export function rulesChange(options: RuleOptions, current: AccessRules = {}): AccessRules | undefined {
  const touched =
    options.clearRules === true ||
    options.freeOnly !== undefined ||
    options.maxInputPrice !== undefined ||
    options.maxOutputPrice !== undefined ||
    LISTS.some((name) => options[name] !== undefined);
  if (!touched) return undefined;
  const rules: AccessRules = options.clearRules ? {} : { ...current };
  for (const name of LISTS) {
    const names = options[name];
    if (names === undefined) continue;
    if (names.length === 0) delete rules[name];
    else rules[name] = [...new Set(names)];
  }
  if (options.freeOnly === true) rules.allowPricing = ['free'];
  else if (options.freeOnly === false) delete rules.allowPricing;
  for (const name of ['maxInputPrice', 'maxOutputPrice'] as const) {
    const price = orNull(options[name]);
    if (price === null) delete rules[name];
    else if (price !== undefined) rules[name] = price;
  }
  return rules;
}

/** Whether an update must read the key's current rules before sending the merged ones. */
export function needsCurrentRules(options: RuleOptions): boolean {
  return !options.clearRules && rulesChange(options) !== undefined;
}

/** The rate-limit change (null removes one), or undefined when no option was given. */
export function rateLimitsChange(options: RateOptions): RateLimits | undefined {
  const change: RateLimits = {
    ...(options.rpm !== undefined && { rpm: orNull(options.rpm) }),
    ...(options.tpm !== undefined && { tpm: orNull(options.tpm) }),
    ...(options.maxParallel !== undefined && { maxParallel: orNull(options.maxParallel) }),
  };
  return Object.keys(change).length === 0 ? undefined : change;
}

/** Rules one per line, as `keys show` prints them. */
export function ruleLines(rules: AccessRules): string {
  const lines: string[] = [];
  const names = (label: string, list: string[] | undefined) => {
    if (list && list.length > 0) lines.push(`${label}: ${list.join(', ')}`);
  };
  names('allow models', rules.allowModels);
  names('deny models', rules.denyModels);
  names('allow providers', rules.allowProviders);
  names('deny providers', rules.denyProviders);
  if (rules.allowPricing?.length === 1 && rules.allowPricing[0] === 'free') lines.push('free models only');
  else names('allow pricing', rules.allowPricing);
  names('deny pricing', rules.denyPricing);
  if (rules.maxInputPrice != null) lines.push(`max input price: ${money(rules.maxInputPrice)} per 1M tokens`);
  if (rules.maxOutputPrice != null) lines.push(`max output price: ${money(rules.maxOutputPrice)} per 1M tokens`);
  return lines.length === 0 ? 'none (every model)' : lines.join('\n');
}

export function rateLimitText(limits: RateLimits): string {
  const parts: string[] = [];
  if (limits.rpm != null) parts.push(`${count(limits.rpm)} requests/min`);
  if (limits.tpm != null) parts.push(`${count(limits.tpm)} tokens/min`);
  if (limits.maxParallel != null) parts.push(`${count(limits.maxParallel)} in parallel`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}
