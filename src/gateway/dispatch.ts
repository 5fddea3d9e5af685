import type { Dispatcher } from 'undici';
import { TollgateError } from '../errors.ts';
import type { GatewayContext } from './context.ts';
import type { Exchange } from './exchange.ts';
import type { HttpCall } from './providers/adapter.ts';
import type { Target } from './routing/model-registry.ts';
import { attemptOrder, firstAnswer, withHealth, withRetries } from './routing/resilience.ts';
import { sendUpstream } from './upstream.ts';

export interface Dispatched {
  response: Dispatcher.ResponseData;
  target: Target;
  /** The timeout the answering attempt had: its body is read under the same. */
  timeoutMs: number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends the request to the model's targets until one answers: one provider call (built for
 * each target by `build`, since targets may speak different formats), wrapped in retries with
 * backoff, health tracking for cool-downs, and fallback in target order. Resolves once a
 * target has answered with a success status; the exchange names the target that served.
 */
export async function dispatch(
  ctx: GatewayContext,
  exchange: Exchange,
  build: (target: Target) => Promise<HttpCall>,
): Promise<Dispatched> {
  const model = exchange.model as NonNullable<Exchange['model']>;
  const signal = exchange.abort.signal;
  // One deadline for the whole request: every attempt, retry and fallback fits inside it.
  const deadline = exchange.started + ctx.requestDeadlineMs;
  const remaining = () => deadline - performance.now();
  const expired = () => new TollgateError('TG_ERR_DEADLINE_EXCEEDED', ctx.requestDeadlineMs);
  const call = async (target: Target): Promise<Dispatched> => {
    if (signal.aborted) throw new TollgateError('TG_ERR_CLIENT_CLOSED');
    if (remaining() < 1) throw expired();
    // An adapter says no with a TollgateError (providers/shared/refusals.ts): 400 for what its
    // provider cannot take, 502 for a credential it cannot use. Anything else it throws is a bug,
    // left to the error handler, which answers a generic 500 without the error's text.
    const request: HttpCall = await build(target);
    const ownTimeoutMs = target.timeoutMs ?? ctx.upstreamTimeoutMs;
    const timeoutMs = Math.max(1, Math.min(ownTimeoutMs, Math.ceil(remaining())));
    // undici's own timeouts run on a coarse clock (up to a second late); the deadline is held
    // by this timer until the answer starts. The caller going away still stops the call after.
    const attemptAbort = new AbortController();
    const forward = () => attemptAbort.abort(signal.reason);
    signal.addEventListener('abort', forward, { once: true });
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      attemptAbort.abort(expired());
    }, timeoutMs);
    try {
      const response = await sendUpstream({ target, call: request, signal: attemptAbort.signal, timeoutMs });
      return { response, target, timeoutMs };
    } catch (error) {
      signal.removeEventListener('abort', forward);
      if (signal.aborted) throw new TollgateError('TG_ERR_CLIENT_CLOSED');
      // Cut short by the deadline, not by its own timeout: not the target's failure.
      const timedOut = late || (error instanceof TollgateError && error.code === 'TG_ERR_PROVIDER_TIMEOUT');
      if (timedOut && timeoutMs < ownTimeoutMs) throw expired();
      if (late) throw new TollgateError('TG_ERR_PROVIDER_TIMEOUT', target.provider, timeoutMs);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
  // A backoff never sleeps past the deadline; the attempt after it then ends the request.
  const sleep = (ms: number) => sleepFor(Math.max(0, Math.min(ms, remaining())));
  const attempt = withHealth(withRetries(call, { retries: model.retries, sleep }), ctx.health, ctx.clock);
  const order = attemptOrder(exchange.targets, ctx.health, ctx.clock());
  return firstAnswer(order, attempt, (target) => {
    exchange.target = target;
  });
}
