import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryRateLimiter, RateAmountError } from './rate-limiter.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('in-memory rate limiter', () => {
  it('allows rpm requests a minute and says when to retry', () => {
    const limiter = new InMemoryRateLimiter();
    for (let i = 0; i < 3; i++) expect(limiter.admit('k', { rpm: 3 }, T0 + i).ok).toBe(true);
    const refused = limiter.admit('k', { rpm: 3 }, T0 + 10);
    expect(refused).toMatchObject({ ok: false, reason: '3 requests per minute' });
    expect(refused.ok === false && refused.retryAfterSeconds).toBeGreaterThan(0);
    // Two minutes on, the window is empty again.
    expect(limiter.admit('k', { rpm: 3 }, T0 + 120_000).ok).toBe(true);
    // Other keys are not affected.
    expect(limiter.admit('other', { rpm: 3 }, T0 + 10).ok).toBe(true);
  });

  it('slides: half a minute into the next window, half of the last one still counts', () => {
    const limiter = new InMemoryRateLimiter();
    for (let i = 0; i < 10; i++) limiter.admit('k', { rpm: 10 }, T0 + i);
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (limiter.admit('k', { rpm: 10 }, T0 + 90_000).ok) admitted++;
    expect(admitted).toBe(5);
  });

  it('limits tokens per minute from what calls used', () => {
    const limiter = new InMemoryRateLimiter();
    expect(limiter.admit('k', { tpm: 100 }, T0).ok).toBe(true);
    limiter.finish('k', 100, T0 + 1);
    expect(limiter.admit('k', { tpm: 100 }, T0 + 2)).toMatchObject({ ok: false, reason: '100 tokens per minute' });
  });

  it('holds concurrent requests to maxParallel until one finishes', () => {
    const limiter = new InMemoryRateLimiter();
    expect(limiter.admit('k', { maxParallel: 2 }, T0).ok).toBe(true);
    expect(limiter.admit('k', { maxParallel: 2 }, T0).ok).toBe(true);
    expect(limiter.admit('k', { maxParallel: 2 }, T0)).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    limiter.finish('k', 0, T0);
    expect(limiter.admit('k', { maxParallel: 2 }, T0).ok).toBe(true);
  });
});

describe('in-memory rate limiter, over arbitrary numbers', () => {
  const anyNumber = fc.oneof(
    fc.double(),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 1e308),
  );

  it('refuses a token count that is not finite and non-negative, and keeps counting as before', () => {
    fc.assert(
      fc.property(fc.array(anyNumber, { maxLength: 20 }), (counts) => {
        const limiter = new InMemoryRateLimiter();
        const limits = { tpm: 1000, maxParallel: 1 };
        let used = 0;
        for (const tokens of counts) {
          expect(limiter.admit('k', limits, T0).ok).toBe(used < 1000);
          if (used >= 1000) return;
          if (Number.isFinite(tokens) && tokens >= 0) {
            limiter.finish('k', tokens, T0);
            used += tokens;
          } else {
            expect(() => limiter.finish('k', tokens, T0)).toThrow(RateAmountError);
            // Refused before anything changed: the slot is still held, so release it properly.
            expect(limiter.admit('k', limits, T0)).toMatchObject({ ok: false });
            limiter.finish('k', 0, T0);
          }
        }
        // Whatever was sent, a limit that was reached is still reached.
        if (used >= 1000) expect(limiter.admit('k', limits, T0).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
