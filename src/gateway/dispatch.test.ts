import { beforeEach, describe, expect, it, vi } from 'vitest';
import { TollgateError } from '../errors.ts';
import type { GatewayContext } from './context.ts';
import { dispatch } from './dispatch.ts';
import type { Exchange } from './exchange.ts';
import type { HttpCall } from './providers/adapter.ts';
import { unsupported } from './providers/shared/refusals.ts';
import type { Target } from './routing/model-registry.ts';
import { TargetHealth } from './routing/resilience.ts';
import { sendUpstream, type UpstreamCall } from './upstream.ts';

vi.mock('./upstream.ts', () => ({ sendUpstream: vi.fn() }));
const send = vi.mocked(sendUpstream);

const target = (id: string, timeoutMs: number | null = null) =>
  ({ id, position: Number(id.slice(1)), weight: 1, provider: 'openai', timeoutMs }) as unknown as Target;
const CALL: HttpCall = { url: 'http://provider.invalid/v1/chat/completions', headers: {}, body: '{}' };

function setting(targets: Target[], options: { retries?: number; deadlineMs: number; timeoutMs: number }) {
  const ctx = {
    health: new TargetHealth(),
    clock: Date.now,
    upstreamTimeoutMs: options.timeoutMs,
    requestDeadlineMs: options.deadlineMs,
  } as unknown as GatewayContext;
  const exchange = {
    started: performance.now(),
    model: { retries: options.retries ?? 0 },
    targets,
    abort: new AbortController(),
  } as unknown as Exchange;
  return { ctx, exchange };
}

/** A provider that waits out whatever timeout it is given, as a hanging one does. */
function hanging(calls: number[]) {
  return async ({ target, timeoutMs }: UpstreamCall) => {
    calls.push(timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    throw new TollgateError('TG_ERR_PROVIDER_TIMEOUT', target.provider, timeoutMs);
  };
}

describe('dispatch', () => {
  beforeEach(() => {
    send.mockReset();
  });

  it("passes an adapter's refusal on as thrown, and never dresses another error up as the caller's", async () => {
    const { ctx, exchange } = setting([target('t0')], { deadlineMs: 1000, timeoutMs: 1000 });
    const refusal = dispatch(ctx, exchange, async () => {
      throw unsupported('gemini', 'tools of type "x" cannot be sent to Gemini');
    });
    await expect(refusal).rejects.toMatchObject({
      code: 'TG_ERR_UNSUPPORTED_BY_PROVIDER',
      status: 400,
      message: 'Provider gemini cannot take this request: tools of type "x" cannot be sent to Gemini',
    });
    // A plain Error is no longer taken for a refusal: its text could be anything.
    const plain = new Error('tools of type "x" cannot be sent to Gemini');
    await expect(
      dispatch(ctx, exchange, async () => {
        throw plain;
      }),
    ).rejects.toBe(plain);
    const overflow = new RangeError('Maximum call stack size exceeded');
    const failure = dispatch(ctx, exchange, async () => {
      throw overflow;
    });
    // Not dressed up as the caller's mistake: the error handler turns it into a generic 500.
    await expect(failure).rejects.toBe(overflow);
  });

  it('fits retries and fallbacks inside one deadline, each attempt getting what is left', async () => {
    const calls: number[] = [];
    send.mockImplementation(hanging(calls));
    const { ctx, exchange } = setting([target('t0'), target('t1')], { retries: 1, deadlineMs: 300, timeoutMs: 200 });
    const started = performance.now();
    const answer = dispatch(ctx, exchange, async () => CALL);
    await expect(answer).rejects.toMatchObject({ code: 'TG_ERR_DEADLINE_EXCEEDED', status: 504 });
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(295);
    expect(took).toBeLessThan(450);
    expect(calls[0]).toBe(200);
    expect(calls[1]).toBeLessThanOrEqual(100);
  });

  it('does not count a cut-short attempt against the target', async () => {
    send.mockImplementation(hanging([]));
    const t0 = target('t0', 1000);
    const { ctx, exchange } = setting([t0], { deadlineMs: 100, timeoutMs: 1000 });
    // One failure would be enough to rest the target.
    ctx.health = new TargetHealth(1, 60_000);
    await expect(dispatch(ctx, exchange, async () => CALL)).rejects.toMatchObject({ code: 'TG_ERR_DEADLINE_EXCEEDED' });
    expect(ctx.health.coolingDown(t0, Date.now())).toBe(false);
  });
});
