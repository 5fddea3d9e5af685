import type { RateLimits } from '../store/schema.ts';

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number; reason: string };

/**
 * Per-key request, token and concurrency limits. `admit` counts a request and takes a
 * concurrency slot; `finish` gives the slot back and counts the tokens the call used.
 * In memory now; a shared store (Redis) implements the same interface for several instances.
 */
export interface RateLimiter {
  /** Shared limiters may have to ask the other instances first, and answer later. */
  admit(keyId: string, limits: RateLimits, now: number): RateDecision | Promise<RateDecision>;
  finish(keyId: string, tokens: number, now: number): void;
}

export const WINDOW_MS = 60_000;

/**
 * Seconds until a sliding-minute estimate (`previous` minute weighted by the part of it still in
 * the window, plus `current`) drops below `limit`, `elapsedMs` into the current minute.
 */
export function secondsUntilBelow(previous: number, current: number, elapsedMs: number, limit: number): number {
  if (current >= limit || previous === 0) return Math.ceil((WINDOW_MS - elapsedMs) / 1000) || 1;
  // previous × (1 − (elapsed + t) / W) + current < limit
  const wait = WINDOW_MS * (1 - (limit - current) / previous) - elapsedMs;
  return Math.max(1, Math.ceil(wait / 1000));
}

/**
 * A token count that cannot be one (NaN, ±Infinity, negative) reached the limiter: refused
 * before any counter changes, so one bad number cannot lift or jam a key's limits.
 */
export class RateAmountError extends RangeError {
  override name = 'RateAmountError';
}

/** A sliding one-minute window, estimated from the current and previous fixed minutes. */
class SlidingMinute {
  #start = 0;
  #current = 0;
  #previous = 0;

  #roll(now: number): void {
    const start = now - (now % WINDOW_MS);
    if (start === this.#start) return;
    this.#previous = start - this.#start === WINDOW_MS ? this.#current : 0;
    this.#current = 0;
    this.#start = start;
  }

  estimate(now: number): number {
    this.#roll(now);
    const weight = 1 - (now - this.#start) / WINDOW_MS;
    return this.#previous * weight + this.#current;
  }

  add(amount: number, now: number): void {
    this.#roll(now);
    this.#current += amount;
  }

  /** Seconds until the estimate drops below `limit` if nothing more is added. */
  secondsUntilBelow(limit: number, now: number): number {
    this.#roll(now);
    return secondsUntilBelow(this.#previous, this.#current, now - this.#start, limit);
  }
}

interface KeyState {
  requests: SlidingMinute;
  tokens: SlidingMinute;
  inFlight: number;
}

export class InMemoryRateLimiter implements RateLimiter {
  readonly #keys = new Map<string, KeyState>();

  #state(keyId: string): KeyState {
    let state = this.#keys.get(keyId);
    if (!state) {
      state = { requests: new SlidingMinute(), tokens: new SlidingMinute(), inFlight: 0 };
      this.#keys.set(keyId, state);
    }
    return state;
  }

  admit(keyId: string, limits: RateLimits, now: number): RateDecision {
    const state = this.#state(keyId);
    const { rpm, tpm, maxParallel } = limits;
    if (maxParallel != null && state.inFlight >= maxParallel) {
      return { ok: false, retryAfterSeconds: 1, reason: `at most ${maxParallel} concurrent requests per key` };
    }
    // Written so that a count that is not a number refuses rather than admits.
    if (rpm != null && !(state.requests.estimate(now) + 1 <= rpm)) {
      return {
        ok: false,
        retryAfterSeconds: state.requests.secondsUntilBelow(rpm, now),
        reason: `${rpm} requests per minute`,
      };
    }
    if (tpm != null && !(state.tokens.estimate(now) < tpm)) {
      return {
        ok: false,
        retryAfterSeconds: state.tokens.secondsUntilBelow(tpm, now),
        reason: `${tpm} tokens per minute`,
      };
    }
    state.inFlight++;
    state.requests.add(1, now);
    return { ok: true };
  }

  finish(keyId: string, tokens: number, now: number): void {
    if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0) {
      throw new RateAmountError(`rate limiter: tokens must be a finite count of at least 0, not ${String(tokens)}`);
    }
    const state = this.#state(keyId);
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (tokens > 0) state.tokens.add(tokens, now);
  }
}
