import { TollgateError } from '../../errors.ts';
import type { Target } from './model-registry.ts';

/**
 * Small layers around one provider call (STYLE habit 2): the order to try targets in
 * (priority groups, weighted within a group, cooled-down targets last), retries with
 * exponential backoff and full jitter, and fallback to the next target. Each layer only
 * decides *whether and when* to call again; the call itself knows nothing of them.
 */
export type Attempt<T> = (target: Target) => Promise<T>;

/** Failures worth another try, here or at another target. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof TollgateError)) return false;
  return (
    error.code === 'TG_ERR_PROVIDER_ERROR' ||
    error.code === 'TG_ERR_PROVIDER_RATE_LIMITED' ||
    error.code === 'TG_ERR_PROVIDER_TIMEOUT' ||
    error.code === 'TG_ERR_PROVIDER_UNREACHABLE'
  );
}

/** Failures that another target may not share (a bad credential), though retrying here is futile. */
function worthFallingBack(error: unknown): boolean {
  return isRetryable(error) || (error instanceof TollgateError && error.code === 'TG_ERR_PROVIDER_AUTH');
}

/** Per-target health: after `threshold` failures in a row a target rests for `coolDownMs`. */
export class TargetHealth {
  readonly #failures = new Map<string, { count: number; until: number }>();
  constructor(
    readonly threshold = 3,
    readonly coolDownMs = 30_000,
  ) {}

  coolingDown(target: Target, now: number): boolean {
    const state = this.#failures.get(target.id);
    return state !== undefined && state.until > now;
  }

  failed(target: Target, now: number): void {
    const state = this.#failures.get(target.id) ?? { count: 0, until: 0 };
    state.count++;
    if (state.count >= this.threshold) state.until = now + this.coolDownMs;
    this.#failures.set(target.id, state);
  }

  succeeded(target: Target): void {
    this.#failures.delete(target.id);
  }
}

/** Picks one target by weight; a weight of 0 is only chosen when all weights are 0. */
function weightedPick(targets: Target[], random: () => number): Target {
  const total = targets.reduce((sum, target) => sum + Math.max(0, target.weight), 0);
  if (total === 0) return targets[0] as Target;
  let point = random() * total;
  for (const target of targets) {
    point -= Math.max(0, target.weight);
    if (point < 0) return target;
  }
  return targets.at(-1) as Target;
}

/**
 * The order to try targets in: by position; within one position, a weighted random order;
 * targets cooling down after the healthy ones (still tried when nothing else is left).
 */
export function attemptOrder(targets: Target[], health: TargetHealth, now: number, random = Math.random): Target[] {
  if (targets.length === 1) return targets;
  const positions = [...new Set(targets.map((target) => target.position))].sort((a, b) => a - b);
  const ordered: Target[] = [];
  for (const position of positions) {
    const group = targets.filter((target) => target.position === position);
    while (group.length > 0) {
      const pick = weightedPick(group, random);
      ordered.push(pick);
      group.splice(group.indexOf(pick), 1);
    }
  }
  return [
    ...ordered.filter((target) => !health.coolingDown(target, now)),
    ...ordered.filter((target) => health.coolingDown(target, now)),
  ];
}

export interface RetryOptions {
  retries: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Calls again on a retryable failure, waiting base·2ⁿ ms with full jitter (capped). */
export function withRetries<T>(attempt: Attempt<T>, options: RetryOptions): Attempt<T> {
  const { retries, baseDelayMs = 100, maxDelayMs = 2000, sleep = sleepFor, random = Math.random } = options;
  return async (target) => {
    for (let tried = 0; ; tried++) {
      try {
        return await attempt(target);
      } catch (error) {
        if (tried >= retries || !isRetryable(error)) throw error;
        const retryAfter = Number((error as TollgateError).headers?.['retry-after']);
        // A provider asking for a long pause is better served by the next target.
        if (Number.isFinite(retryAfter) && retryAfter * 1000 > maxDelayMs) throw error;
        await sleep(Math.min(maxDelayMs, baseDelayMs * 2 ** tried) * random());
      }
    }
  };
}

/** Records each target's outcome for cool-downs. */
export function withHealth<T>(attempt: Attempt<T>, health: TargetHealth, clock: () => number): Attempt<T> {
  return async (target) => {
    try {
      const result = await attempt(target);
      health.succeeded(target);
      return result;
    } catch (error) {
      if (worthFallingBack(error)) health.failed(target, clock());
      throw error;
    }
  };
}

/** Tries each target in order until one answers; the last failure is the one reported. */
export async function firstAnswer<T>(
  order: Target[],
  attempt: Attempt<T>,
  onTry?: (target: Target) => void,
): Promise<T> {
  let last: unknown;
  for (const target of order) {
    onTry?.(target);
    try {
      return await attempt(target);
    } catch (error) {
      last = error;
      if (!worthFallingBack(error)) throw error;
    }
  }
  throw last ?? new TollgateError('TG_ERR_INTERNAL', 'no target');
}
