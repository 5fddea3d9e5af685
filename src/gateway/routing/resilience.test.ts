import { describe, expect, it } from 'vitest';
import { TollgateError } from '../../errors.ts';
import type { Target } from './model-registry.ts';
import { attemptOrder, firstAnswer, TargetHealth, withHealth, withRetries } from './resilience.ts';

const target = (id: string, position: number, weight = 1) =>
  ({ id, position, weight, provider: 'p' }) as unknown as Target;
const serverError = () => new TollgateError('TG_ERR_PROVIDER_ERROR', 'p', 500);
const badRequest = () => new TollgateError('TG_ERR_PROVIDER_REJECTED', 'p', 'no');
const noSleep = async () => {};

describe('attempt order', () => {
  it('tries positions in order and shares one position by weight', () => {
    const a = target('a', 0, 3);
    const b = target('b', 0, 1);
    const c = target('c', 1);
    const firsts = { a: 0, b: 0 } as Record<string, number>;
    let seed = 0;
    const random = () => {
      seed = (seed * 9301 + 49297) % 233280;
      return seed / 233280;
    };
    for (let i = 0; i < 4000; i++) {
      const order = attemptOrder([a, b, c], new TargetHealth(), 0, random);
      expect(order.at(-1)).toBe(c);
      firsts[(order[0] as Target).id] = (firsts[(order[0] as Target).id] ?? 0) + 1;
    }
    expect((firsts.a as number) / 4000).toBeGreaterThan(0.7);
    expect((firsts.a as number) / 4000).toBeLessThan(0.8);
  });

  it('puts a cooling-down target last until its rest is over', () => {
    const health = new TargetHealth(2, 1000);
    const [a, b] = [target('a', 0), target('b', 1)];
    health.failed(a, 0);
    expect(attemptOrder([a, b], health, 1)).toEqual([a, b]);
    health.failed(a, 0);
    expect(attemptOrder([a, b], health, 1)).toEqual([b, a]);
    expect(attemptOrder([a, b], health, 1001)).toEqual([a, b]);
    health.succeeded(a);
    health.failed(a, 2000);
    expect(attemptOrder([a, b], health, 2001)).toEqual([a, b]);
  });
});

describe('retries and fallbacks', () => {
  it('retries a retryable failure with growing, jittered waits, then gives up', async () => {
    const waits: number[] = [];
    let calls = 0;
    const attempt = withRetries(
      async () => {
        calls++;
        throw serverError();
      },
      { retries: 3, baseDelayMs: 100, maxDelayMs: 250, sleep: async (ms) => void waits.push(ms), random: () => 1 },
    );
    await expect(attempt(target('a', 0))).rejects.toThrow(/failed with HTTP 500/);
    expect(calls).toBe(4);
    expect(waits).toEqual([100, 200, 250]);
  });

  it('does not retry what a retry cannot fix', async () => {
    let calls = 0;
    const attempt = withRetries(
      async () => {
        calls++;
        throw badRequest();
      },
      { retries: 3, sleep: noSleep },
    );
    await expect(attempt(target('a', 0))).rejects.toThrow(/rejected/);
    expect(calls).toBe(1);
  });

  it('falls back to the next target on a server error but not on a bad request', async () => {
    const tried: string[] = [];
    const answer = await firstAnswer([target('a', 0), target('b', 1)], async (t) => {
      tried.push(t.id);
      if (t.id === 'a') throw serverError();
      return t.id;
    });
    expect(answer).toBe('b');
    expect(tried).toEqual(['a', 'b']);
    await expect(
      firstAnswer([target('a', 0), target('b', 1)], async () => {
        throw badRequest();
      }),
    ).rejects.toThrow(/rejected/);
  });

  it('counts failures towards a cool-down and forgets them on success', async () => {
    const health = new TargetHealth(1, 1000);
    const a = target('a', 0);
    const failing = withHealth(
      async () => Promise.reject(serverError()),
      health,
      () => 5,
    );
    await expect(failing(a)).rejects.toThrow();
    expect(health.coolingDown(a, 6)).toBe(true);
    await withHealth(
      async () => 'ok',
      health,
      () => 7,
    )(a);
    expect(health.coolingDown(a, 8)).toBe(false);
  });
});
